import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import {
  ServiceAccountToken,
  TOKEN_FILE_MAX_AGE_MS,
  withTokenFileAuth,
} from '../../../lib/kubernetes/service-account-token.js';

describe('the service-account token file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sa-token-'));
    file = path.join(dir, 'token');
    fs.writeFileSync(file, 'first\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is read again once it is older than a minute, not before', () => {
    let now = 0;
    const token = new ServiceAccountToken(file, () => now);
    expect(token.current()).toBe('first');
    fs.writeFileSync(file, 'second');
    now = TOKEN_FILE_MAX_AGE_MS;
    expect(token.current()).toBe('first');
    now = TOKEN_FILE_MAX_AGE_MS + 1;
    expect(token.current()).toBe('second');
  });

  it('is read at once by refresh, which says whether a request sent with `used` is worth a retry', () => {
    const token = new ServiceAccountToken(file, () => 0);
    expect(token.refresh(undefined)).toBe(false); // nothing was sent yet
    const used = token.current();
    expect(token.refresh(used)).toBe(false); // same token: the 401 is real
    fs.writeFileSync(file, 'second');
    expect(token.refresh(used)).toBe(true);
    expect(token.current()).toBe('second');
    fs.rmSync(file);
    expect(token.refresh('second')).toBe(false); // unreadable: the next request reports it
  });

  it("replaces client-node's reader for an in-cluster user, and leaves any other KubeConfig alone", async () => {
    const inCluster = new KubeConfig();
    inCluster.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://10.0.0.1:443' }],
      users: [{ name: 'u', authProvider: { name: 'tokenFile', config: { tokenFile: file } } }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const { kubeConfig, token } = withTokenFileAuth(inCluster);
    expect(kubeConfig).not.toBe(inCluster);
    expect(kubeConfig.getCurrentCluster()?.server).toBe('https://10.0.0.1:443');
    const header = async () => {
      const options: { headers?: Record<string, string> } = {};
      await kubeConfig.applyToHTTPSOptions(options);
      return options.headers?.Authorization;
    };
    expect(await header()).toBe('Bearer first');
    fs.writeFileSync(file, 'second');
    expect(await header()).toBe('Bearer first'); // cached, as client-node would
    token!.refresh('first');
    expect(await header()).toBe('Bearer second');

    const withToken = new KubeConfig();
    withToken.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://10.0.0.1:443' }],
      users: [{ name: 'u', token: 'static' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    expect(withTokenFileAuth(withToken)).toEqual({ kubeConfig: withToken });
  });
});
