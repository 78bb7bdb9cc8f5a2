import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { credentialKindOf, type CredentialKind } from '../../plugin/events/payload-schemas/credential-values.js';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (header: object, payload: object, signature = 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c') => `${b64url(header)}.${b64url(payload)}.${signature}`;
const privatePem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('credential-shaped values', () => {
  const credentials: Array<[CredentialKind, string]> = [
    ['otpauth-url', 'otpauth://totp/Acme:jane?secret=JBSWY3DPEHPK3PXP&issuer=Acme'],
    ['otpauth-url', 'scan otpauth://hotp/x?secret=ABC&counter=1 in your app'],
    ['otpauth-url', 'otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8'],
    ['jwt', jwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'u-1' })],
    ['jwt', `failed for ${jwt({ alg: 'RS256', kid: 'k1' }, { sub: 'u-1', exp: 1 })} at login`],
    ['jwt', `${jwt({ alg: 'none' }, { sub: 'u' }, '')}`],
    ['jwt', `${b64url({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.ZmFrZS1rZXk.aXY.Y2lwaGVy.dGFn`],
    ['private-key', privatePem],
    ['private-key', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----'],
    ['private-key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----'],
    ['url-with-credential', 'https://id.example.com/reset?token=9f8e7d6c5b4a'],
    ['url-with-credential', 'https://app.example.com/cb#access_token=abc123&token_type=bearer'],
    ['url-with-credential', 'https://app.example.com/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz'],
    ['url-with-credential', 'https://bucket.s3.amazonaws.com/a.png?X-Amz-Algorithm=AWS4&X-Amz-Signature=abcdef0123'],
    ['url-with-credential', 'https://example.blob.core.windows.net/c/b?sv=2024&sig=AbCd%2B1'],
    ['url-with-credential', 'postgres://app:hunter2@db.internal:5432/identity'],
    ['url-with-credential', 'https://api.example.com/v1?api_key=k_123456'],
    ['url-with-credential', 'https://id.example.com/verify?reset_token=aa11bb22'],
    ['capability-url', 'https://id.example.com/reset-password/Zk3qP9wLx2Vb7Nc4'],
    ['capability-url', 'https://id.example.com/invite/accept/8d9f2c1b4a6e7f30a1b2'],
    ['authorization-header', 'Bearer abc.def-ghi_jkl~mno+pqr'],
    ['authorization-header', 'bearer 0123456789abcdefABCDEF'],
    ['authorization-header', 'Authorization: Basic ' + Buffer.from('jane:hunter2').toString('base64')],
    ['authorization-header', 'token 7f3a9c2e1b8d4f6a0c5e7b9d1f3a5c7e'],
    ['authorization-header', 'Digest username="jane", realm="x", nonce="abc", response="def"'],
    ['webhook-secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['webhook-secret', 'whsk_OS1cSa2k3OKhwCWNBqcEBsZbOS6sDVTGAm8mYrnjT4A'],
    ['password-hash', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'],
    ['password-hash', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g'],
    ['password-hash', 'scrypt$32768$8$1$c2FsdA$aGFzaA'],
    ['password-hash', 'pbkdf2_sha256$600000$salt$hashhashhash'],
    ['provider-token', 'ghp_1234567890abcdefghijABCDEFGHIJ123456'],
    ['provider-token', 'xoxb-123456789012-abcdefghijkl'],
    ['provider-token', 'sk_live_51HxYzABCDEFGHIJKLMNOP'],
    ['provider-token', 'AKIAIOSFODNN7EXAMPLE'],
    ['provider-token', 'AIzaSyD-1234567890abcdefghijklmnopqrstu'],
    ['credential-assignment', 'login failed with password=hunter22'],
    ['credential-assignment', 'client_secret=s3cr3tv4lue'],
  ];
  for (const [kind, value] of credentials) {
    it(`refuses ${kind}: ${value.slice(0, 48).replace(/\n/g, ' ')}`, () => {
      assert.equal(credentialKindOf(value), kind);
    });
  }

  it('lets ordinary values through', () => {
    const ordinary = [
      'Jane Doe', 'jane.doe@example.com', '2026-01-15T09:30:00.000Z', 'usr_2f9c1e7a', 'wh_Xb3k9QmR2tVw8YpL4nJ6aC', 'mail.example.com', '1.2.3',
      'Basic plan', 'Bearer of good news', 'token expired', 'token internationalization', 'invalid password', 'totp', 'recovery_code',
      'https://portal.example.com/callback', 'https://cdn.example.com/avatars/3f2a9b1c-7d4e-4f5a-9b8c-1d2e3f4a5b6c.png',
      'https://crm.example.com/****', 'https://example.com/search?q=token&page=2&state=abc', 'https://hooks.example.com/path?code=',
      'whpk_OS1cSa2k3OKhwCWNBqcEBsZbOS+6sDVTGAm8mYrnjT4=', publicPem, 'eyJub3QganNvbg.eyJ4IjoxfQ.sig', 'access_token', 'logout_token',
      'Mozilla/5.0 (X11; Linux x86_64)', 'status code=500', 'price $20$ discount', '+44 7700 900123', 'a'.repeat(64),
      'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=', 'x-api-key', 'scrypt is a key derivation function',
    ];
    for (const value of ordinary) assert.equal(credentialKindOf(value), null, value);
  });
});
