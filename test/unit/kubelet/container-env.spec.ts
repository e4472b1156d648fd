// The test kubelet's downward API: the fields a container's env may reference, labels and
// annotations included (a Deployment's manifest reads its revision from the Pod's
// `pod-template-hash` label), and the pod's address from the status the kubelet wrote.
import { containerEnv } from '../../kubelet/kubelet.js';

const pod = {
  metadata: {
    name: 'app-7d9f-x2',
    namespace: 'apps',
    uid: 'u-1',
    labels: { app: 'sample', 'pod-template-hash': '7d9f' },
    annotations: { 'example.com/owner': 'team-a' },
  },
  spec: { nodeName: 'test-kubelet', serviceAccountName: 'sample', containers: [] },
  status: { podIP: '10.244.0.7', podIPs: [{ ip: '10.244.0.7' }, { ip: 'fd00::7' }] },
};

const ref = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });

describe('test kubelet container env', () => {
  it('resolves label and annotation field references, and the plain fields', () => {
    const env = containerEnv(pod, {
      name: 'app',
      env: [
        ref('POD_TEMPLATE_HASH', "metadata.labels['pod-template-hash']"),
        ref('OWNER', "metadata.annotations['example.com/owner']"),
        ref('MISSING', "metadata.labels['controller-revision-hash']"),
        ref('POD_NAME', 'metadata.name'),
        ref('POD_IP', 'status.podIP'),
        ref('POD_IPS', 'status.podIPs'),
        { name: 'PLAIN', value: 'x' },
      ],
    });
    expect(env).toEqual({
      POD_TEMPLATE_HASH: '7d9f',
      OWNER: 'team-a',
      MISSING: '',
      POD_NAME: 'app-7d9f-x2',
      POD_IP: '10.244.0.7',
      POD_IPS: '10.244.0.7,fd00::7',
      PLAIN: 'x',
    });
  });

  it('refuses a field it cannot give', () => {
    expect(() =>
      containerEnv(pod, { name: 'app', env: [ref('HOST_IP', 'status.hostIP')] }),
    ).toThrow('unsupported fieldRef status.hostIP');
  });

  it("refuses the pod's address before the kubelet has set it", () => {
    const { status: _status, ...withoutStatus } = pod;
    expect(() =>
      containerEnv(withoutStatus, { name: 'app', env: [ref('POD_IP', 'status.podIP')] }),
    ).toThrow('fieldRef status.podIP is not set on the Pod');
  });
});
