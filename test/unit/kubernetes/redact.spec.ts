// Redaction of foreign text in errors: secrets go, the API path (namespace, Lease name) stays, so that
// the message still says which Lease a failed request was for.
import { toLockError } from '../../../lib/kubernetes/errors.js';
import { redact } from '../../../lib/kubernetes/redact.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.c2VydmljZWFjY291bnQ6YXBwczpiaWxsaW5n.Zm9vYmFyMTIzNDU2';
const PASSWORD = 's3cret-Passw0rd';
const LEASE_PATH = '/apis/coordination.k8s.io/v1/namespaces/payments-prod/leases/billing-leader-v2';

describe('redact', () => {
  it("keeps a failed Lease request's API path and hides its credentials", () => {
    // A proxy in front of the API server echoing the request in its error page.
    const page =
      `<html><body><h1>502 Bad Gateway</h1><pre>PUT ${LEASE_PATH}?access_token=${TOKEN} HTTP/1.1\r\n` +
      `Host: 10.96.0.1:443\r\nAuthorization: Bearer ${TOKEN}\r\nX-Password: ${PASSWORD}</pre></body></html>`;
    const error = toLockError(
      { code: 502, body: page },
      { verb: 'update', namespace: 'payments-prod', name: 'billing-leader-v2' },
    );
    expect(error.message).toContain(`PUT ${LEASE_PATH}?access_token=[redacted]`);
    for (const secret of [TOKEN, PASSWORD, TOKEN.slice(0, 20), TOKEN.slice(-16)]) {
      expect(error.message).not.toContain(secret);
    }
  });

  it("keeps the path of a client's request error, with its watch query, and hides a URL's user info", () => {
    const url = `https://admin:${PASSWORD}@10.96.0.1:443${LEASE_PATH.replace(/\/billing.*/, '')}`;
    const query =
      '?fieldSelector=metadata.name%3Dbilling-leader-v2&watch=true&resourceVersion=184467';
    expect(redact(`request to ${url}${query} failed, reason: socket hang up`)).toBe(
      'request to https://[redacted]@10.96.0.1:443/apis/coordination.k8s.io/v1/namespaces/payments-prod/leases' +
        `${query} failed, reason: socket hang up`,
    );
    // Core API paths too (events are recorded on the Lease's namespace).
    expect(
      redact('POST /api/v1/namespaces/payments-prod/events/billing-leader-v2.17f3a9c1e5b2d4f6'),
    ).toBe('POST /api/v1/namespaces/payments-prod/events/billing-leader-v2.17f3a9c1e5b2d4f6');
  });

  it('still hides long opaque strings outside API paths, slashes included', () => {
    const key = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7/VJTUt9Us8cKj';
    expect(redact(`bad key ${key} and /apis/x/${key}`)).not.toContain('MIIEvQIBADANBgkq');
  });
});
