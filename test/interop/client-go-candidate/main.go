// Command client-go-candidate is a leader election candidate built on client-go's
// tools/leaderelection, the reference implementation. Tests and benchmarks run it next to
// nestjs-kube-leader candidates on the same Lease. It prints one JSON object per line:
//
//	{"event":"new_leader","leader":"x","identity":"me","lease":"l","at":1700000000000.123}
//	{"event":"started_leading",...}  {"event":"stopped_leading",...}  {"event":"exit",...}
//
// `at` is the wall clock in milliseconds since the epoch (with microseconds as a fraction).
//
// SIGTERM/SIGINT cancel the election context; with ReleaseOnCancel the lease is released.
//
// For benchmarks (bench/), one process can host several electors:
//
//	--elections=N   N Leases named <lease>-0 .. <lease>-N-1, one candidate each (one shared client)
//	--candidates=N  N candidates <identity>-0 .. <identity>-N-1 on the same Lease (one client each)
//
// Every elector's HTTP User-Agent is its identity (--user-agent overrides it for a single elector),
// so the API server's audit log tells candidates apart. Requests are counted per elector by a
// wrapping RoundTripper: SIGUSR2 prints {"event":"requests","counts":{"<identity>":{"get":n,...}}}.
// SIGUSR1 releases the elector of this process that currently leads (the others keep running).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientset "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

var out = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

func now() float64 { return float64(time.Now().UnixMicro()) / 1000 }

func emit(event, identity, leader, lease string) {
	out.Lock()
	defer out.Unlock()
	_ = out.enc.Encode(map[string]any{
		"event":    event,
		"identity": identity,
		"leader":   leader,
		"lease":    lease,
		"at":       now(),
		"impl":     "client-go",
	})
}

// counter counts the HTTP requests of one client by verb (get, watch, create, update, ...).
type counter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *counter) add(verb string) {
	c.mu.Lock()
	c.counts[verb]++
	c.mu.Unlock()
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	copied := make(map[string]int, len(c.counts))
	for k, v := range c.counts {
		copied[k] = v
	}
	return copied
}

type countingRoundTripper struct {
	next    http.RoundTripper
	counter *counter
}

func (rt *countingRoundTripper) RoundTrip(request *http.Request) (*http.Response, error) {
	verb := request.Method
	switch request.Method {
	case http.MethodGet:
		if request.URL.Query().Get("watch") == "true" {
			verb = "watch"
		} else {
			verb = "get"
		}
	case http.MethodPut:
		verb = "update"
	case http.MethodPost:
		verb = "create"
	case http.MethodDelete:
		verb = "delete"
	}
	rt.counter.add(verb)
	return rt.next.RoundTrip(request)
}

type elector struct {
	identity string
	lease    string
	counter  *counter
	cancel   context.CancelFunc
	leading  atomic.Bool
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path to a kubeconfig file")
	namespace := flag.String("namespace", "default", "namespace of the Lease")
	lease := flag.String("lease", "", "name of the Lease")
	identity := flag.String("identity", "", "this candidate's identity")
	leaseDuration := flag.Duration("lease-duration", 15*time.Second, "lease duration")
	renewDeadline := flag.Duration("renew-deadline", 10*time.Second, "renew deadline")
	retryPeriod := flag.Duration("retry-period", 2*time.Second, "retry period")
	userAgent := flag.String("user-agent", "", "HTTP User-Agent (default: the identity)")
	elections := flag.Int("elections", 1, "number of Leases (<lease>-<i>), one candidate each")
	candidates := flag.Int("candidates", 1, "number of candidates (<identity>-<i>) on the Lease")
	flag.Parse()
	if *lease == "" || *identity == "" {
		fmt.Fprintln(os.Stderr, "--lease and --identity are required")
		os.Exit(2)
	}
	if *elections < 1 || *candidates < 1 || (*elections > 1 && *candidates > 1) {
		fmt.Fprintln(os.Stderr, "--elections and --candidates must be >= 1, and not both > 1")
		os.Exit(2)
	}

	base, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubeconfig:", err)
		os.Exit(2)
	}
	base.QPS = 100
	base.Burst = 100
	newClient := func(agent string, c *counter) *clientset.Clientset {
		config := rest.CopyConfig(base)
		config.UserAgent = agent
		config.Wrap(func(next http.RoundTripper) http.RoundTripper {
			return &countingRoundTripper{next: next, counter: c}
		})
		return clientset.NewForConfigOrDie(config)
	}

	var electors []*elector
	var shared *clientset.Clientset
	var sharedCounter *counter
	clients := map[*elector]*clientset.Clientset{}
	total := *elections * *candidates
	for i := 0; i < total; i++ {
		e := &elector{identity: *identity, lease: *lease}
		if *elections > 1 {
			e.lease = fmt.Sprintf("%s-%d", *lease, i)
		}
		if *candidates > 1 {
			e.identity = fmt.Sprintf("%s-%d", *identity, i)
			e.counter = &counter{counts: map[string]int{}}
			clients[e] = newClient(e.identity, e.counter)
		} else {
			if shared == nil {
				agent := *userAgent
				if agent == "" {
					agent = *identity
				}
				sharedCounter = &counter{counts: map[string]int{}}
				shared = newClient(agent, sharedCounter)
			}
			e.counter = sharedCounter
			clients[e] = shared
		}
		electors = append(electors, e)
	}

	root, cancelAll := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for s := range signals {
			switch s {
			case syscall.SIGUSR1:
				for _, e := range electors {
					if e.leading.Load() {
						e.cancel()
						break
					}
				}
			case syscall.SIGUSR2:
				printCounts(*identity, electors, sharedCounter)
			default:
				cancelAll()
			}
		}
	}()

	emit("ready", *identity, "", *lease)
	var wg sync.WaitGroup
	for _, e := range electors {
		ctx, cancel := context.WithCancel(root)
		e.cancel = cancel
		lock := &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Name: e.lease, Namespace: *namespace},
			Client:     clients[e].CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: e.identity},
		}
		wg.Add(1)
		go func(e *elector) {
			defer wg.Done()
			leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
				Lock:            lock,
				LeaseDuration:   *leaseDuration,
				RenewDeadline:   *renewDeadline,
				RetryPeriod:     *retryPeriod,
				ReleaseOnCancel: true,
				Name:            e.lease,
				Callbacks: leaderelection.LeaderCallbacks{
					OnStartedLeading: func(ctx context.Context) {
						e.leading.Store(true)
						emit("started_leading", e.identity, e.identity, e.lease)
					},
					OnStoppedLeading: func() {
						e.leading.Store(false)
						emit("stopped_leading", e.identity, "", e.lease)
					},
					OnNewLeader: func(leader string) {
						emit("new_leader", e.identity, leader, e.lease)
					},
				},
			})
		}(e)
	}
	wg.Wait()
	cancelAll()
	emit("exit", *identity, "", *lease)
}

func printCounts(identity string, electors []*elector, shared *counter) {
	counts := map[string]map[string]int{}
	if shared != nil {
		counts[identity] = shared.snapshot()
	} else {
		for _, e := range electors {
			counts[e.identity] = e.counter.snapshot()
		}
	}
	out.Lock()
	defer out.Unlock()
	_ = out.enc.Encode(map[string]any{
		"event":    "requests",
		"identity": identity,
		"counts":   counts,
		"at":       now(),
		"impl":     "client-go",
	})
}
