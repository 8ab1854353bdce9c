import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { hooksConfigFromEnv, snsConfirmation } from '../../src/server/hooks.ts';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:tend-ses-events';
const confirmUrl = `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=2336412f37fb687f`;

describe('webhook settings from the environment', () => {
  it('reads the keys and topics, and names the variable when one is wrong', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const config = hooksConfigFromEnv({
      TEND_SES_TOPIC_ARNS: ` ${TOPIC}, arn:aws-cn:sns:cn-north-1:123456789012:other.fifo `, TEND_SENDGRID_WEBHOOK_KEY: key,
      TEND_MAILGUN_SIGNING_KEY: 'key-0123456789abcdef', TEND_TWILIO_AUTH_TOKEN: 'abc', TEND_VAPID_PUBLIC_KEY: 'BPub',
    });
    assert.deepEqual(config.sesTopicArns, [TOPIC, 'arn:aws-cn:sns:cn-north-1:123456789012:other.fifo']);
    assert.deepEqual([config.sendgridKey, config.mailgunKey, config.twilioAuthToken, config.vapidPublicKey], [key, 'key-0123456789abcdef', 'abc', 'BPub']);
    assert.deepEqual(hooksConfigFromEnv({}), { twilioAuthToken: undefined, sendgridKey: undefined, mailgunKey: undefined, sesTopicArns: [], messageIdDomain: undefined, vapidPublicKey: undefined });
    assert.throws(() => hooksConfigFromEnv({ TEND_SES_TOPIC_ARNS: 'tend-ses-events' }), /TEND_SES_TOPIC_ARNS is not valid: "tend-ses-events"/);
    assert.throws(() => hooksConfigFromEnv({ TEND_SENDGRID_WEBHOOK_KEY: 'not a key' }), /TEND_SENDGRID_WEBHOOK_KEY is not valid/);
    assert.throws(() => hooksConfigFromEnv({ TEND_MAILGUN_SIGNING_KEY: 'short' }), /TEND_MAILGUN_SIGNING_KEY is not valid/);
  });
});

describe('confirming an SNS subscription', () => {
  it('happens only for a listed topic, on SNS in its region, confirming that topic', () => {
    assert.deepEqual(snsConfirmation({ topicArn: TOPIC, subscribeUrl: confirmUrl }, [TOPIC]), { confirm: true });
    const no = (topicArn: string, subscribeUrl: string, topics = [TOPIC]) => {
      const d = snsConfirmation({ topicArn, subscribeUrl }, topics);
      assert.equal(d.confirm, false, subscribeUrl);
      return d.confirm ? '' : d.reason;
    };
    assert.match(no(TOPIC, confirmUrl, []), /not in TEND_SES_TOPIC_ARNS/);
    assert.match(no(TOPIC, confirmUrl.replace('https:', 'http:')), /not on sns/);
    assert.match(no(TOPIC, confirmUrl.replace('sns.eu-west-1.amazonaws.com', 'sns.eu-west-1.amazonaws.com.evil.example')), /not on sns/);
    assert.match(no(TOPIC, confirmUrl.replace('sns.eu-west-1.amazonaws.com', 'user@sns.eu-west-1.amazonaws.com')), /not on sns/);
    assert.match(no(TOPIC, confirmUrl.replace('eu-west-1.amazonaws', 'us-east-1.amazonaws')), /region/);
    assert.match(no(TOPIC, confirmUrl.replace('ConfirmSubscription', 'Unsubscribe')), /does not confirm this topic/);
    assert.match(no(TOPIC, confirmUrl.replace('tend-ses-events', 'other')), /does not confirm this topic/);
  });
});
