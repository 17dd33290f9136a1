// kstatus reads one Kubernetes object as JSON from stdin and prints the status kstatus computes for it as
// JSON: {"status": "Current|InProgress|Failed|Terminating|...", "message": "..."}. Flux waits on InProgress
// until its timeout, stops at Failed, and is done at Current.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var object unstructured.Unstructured
	if err := object.UnmarshalJSON(input); err != nil {
		fail(fmt.Errorf("decoding the object: %w", err))
	}
	result, err := status.Compute(&object)
	if err != nil {
		fail(err)
	}
	out, _ := json.Marshal(map[string]string{"status": result.Status.String(), "message": result.Message})
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kstatus:", err)
	os.Exit(1)
}
