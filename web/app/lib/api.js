// The admin API client: bearer token, JSON in and out, and errors people can read.

const TOKEN_KEY = 'tend.adminToken';

/** The admin token kept in this browser. */
export const session = {
  get token() {
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  save(token) {
    localStorage.setItem(TOKEN_KEY, token);
  },
  clear() {
    localStorage.removeItem(TOKEN_KEY);
  },
};

/** A failed API call: `status` 0 means the server could not be reached. */
export class ApiError extends Error {
  constructor(status, message, details = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = details.code ?? null;
    this.field = details.field ?? null;
  }
}

/**
 * Creates a client bound to a token. `signal` aborts its requests when the screen that made them
 * is left; `onUnauthorized` runs when the server refuses the token (it was revoked or changed).
 */
export function createApi({ token, signal, onUnauthorized = () => {} }) {
  async function call(path, { method = 'GET', query, body } = {}) {
    const url = new URL(path, location.origin);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
    }
    const headers = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      throw new ApiError(0, 'Tend did not answer. Check that the server is running and try again.');
    }
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (res.ok) return data;
    if (res.status === 401) onUnauthorized();
    const message = data?.error ?? `The server answered ${res.status} ${res.statusText}`.trim();
    throw new ApiError(res.status, message, { code: data?.code, field: data?.field });
  }
  return {
    get: (path, query) => call(path, { query }),
    post: (path, body) => call(path, { method: 'POST', body: body ?? {} }),
    put: (path, body) => call(path, { method: 'PUT', body }),
    patch: (path, body) => call(path, { method: 'PATCH', body }),
    delete: (path) => call(path, { method: 'DELETE' }),
  };
}
