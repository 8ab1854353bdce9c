/** A realistic abandoned-cart email, shared by the template tests and the render benchmark. */
export const abandonedCart = {
  subject: '{{ contact.first_name | default: "Hi" }}, your cart at {{ workspace.name }} is waiting',
  preheader: '{{ cart.items.size }} items & a little something inside',
  mjml: `<mjml>
  <mj-head>
    <mj-title>Your cart is waiting</mj-title>
    <mj-attributes><mj-all font-family="Helvetica, Arial, sans-serif" /></mj-attributes>
  </mj-head>
  <mj-body background-color="#f4f4f4">
    <mj-section background-color="#ffffff">
      <mj-column>
        <mj-text font-size="20px">Hi {{ contact.first_name | default: "there" }},</mj-text>
        <mj-text>You left {{ cart.items.size }} items in your cart at {{ workspace.name }}.</mj-text>
      </mj-column>
    </mj-section>
    {% for item in cart.items %}
    <mj-section background-color="#ffffff">
      <mj-column width="30%">
        <mj-image src="{{ item.image_url }}" alt="{{ item.name }}" href="{{ item.url }}" />
      </mj-column>
      <mj-column width="70%">
        <mj-text font-weight="bold">{{ item.name }}</mj-text>
        <mj-text>{{ item.quantity }} × {{ item.price | money: cart.currency }}</mj-text>
      </mj-column>
    </mj-section>
    {% endfor %}
    <mj-section background-color="#ffffff">
      <mj-column>
        <mj-text>Total: <strong>{{ cart.total | money: cart.currency }}</strong></mj-text>
        {% if coupon %}
        <mj-text>Use {{ coupon.code }} for {{ coupon.percent_off }}% off until {{ coupon.expires_at | format_date }}.</mj-text>
        {% endif %}
        <mj-button href="{{ cart.url }}">Back to my cart</mj-button>
      </mj-column>
    </mj-section>
    <mj-section>
      <mj-column>
        <mj-text font-size="11px"><a href="{{ links.unsubscribe }}">Unsubscribe</a> · <a href="{{ links.preferences }}">Preferences</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
`,
};
