// Command client-go-candidate is a leader election candidate built on client-go's
// tools/leaderelection, the reference implementation. Tests and benchmarks run it next to
// nestjs-kube-leader candidates on the same Lease. It prints one JSON object per line:
//
//	{"event":"new_leader","leader":"x","identity":"me","at":1700000000000}
//	{"event":"started_leading",...}  {"event":"stopped_leading",...}  {"event":"exit",...}
//
// SIGTERM/SIGINT cancel the election context; with ReleaseOnCancel the lease is released.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientset "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

var out = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

func emit(event, identity, leader string) {
	out.Lock()
	defer out.Unlock()
	_ = out.enc.Encode(map[string]any{
		"event":    event,
		"identity": identity,
		"leader":   leader,
		"at":       time.Now().UnixMilli(),
		"impl":     "client-go",
	})
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path to a kubeconfig file")
	namespace := flag.String("namespace", "default", "namespace of the Lease")
	lease := flag.String("lease", "", "name of the Lease")
	identity := flag.String("identity", "", "this candidate's identity")
	leaseDuration := flag.Duration("lease-duration", 15*time.Second, "lease duration")
	renewDeadline := flag.Duration("renew-deadline", 10*time.Second, "renew deadline")
	retryPeriod := flag.Duration("retry-period", 2*time.Second, "retry period")
	flag.Parse()
	if *lease == "" || *identity == "" {
		fmt.Fprintln(os.Stderr, "--lease and --identity are required")
		os.Exit(2)
	}

	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubeconfig:", err)
		os.Exit(2)
	}
	config.QPS = 100
	config.Burst = 100
	client := clientset.NewForConfigOrDie(config)

	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: *lease, Namespace: *namespace},
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: *identity},
	}

	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		cancel()
	}()

	emit("ready", *identity, "")
	leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   *leaseDuration,
		RenewDeadline:   *renewDeadline,
		RetryPeriod:     *retryPeriod,
		ReleaseOnCancel: true,
		Name:            *lease,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				emit("started_leading", *identity, *identity)
			},
			OnStoppedLeading: func() {
				emit("stopped_leading", *identity, "")
			},
			OnNewLeader: func(leader string) {
				emit("new_leader", *identity, leader)
			},
		},
	})
	emit("exit", *identity, "")
}
