// argocd-health evaluates an Argo CD health.lua against one Kubernetes object read as JSON from stdin and
// prints the script's result as JSON: {"status": "...", "message": "..."}.
//
// It mirrors what Argo CD's util/lua does for a resource customization: a fresh gopher-lua state with only the
// base, table, string and math libraries (Argo CD skips the others unless told to open them), the object set as
// the global `obj` after decoding with gopher-json, and the returned table read as a health status whose
// status must be one of Argo CD's health codes.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	lua "github.com/yuin/gopher-lua"
	luajson "layeh.com/gopher-json"
)

var healthCodes = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

type health struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: argocd-health <health.lua> < object.json")
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err.Error())
	}
	object, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err.Error())
	}
	result, err := evaluate(string(script), object)
	if err != nil {
		fail(err.Error())
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}

func evaluate(script string, object []byte) (*health, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return nil, err
		}
	}
	value, err := luajson.Decode(l, object)
	if err != nil {
		return nil, fmt.Errorf("decoding the object: %w", err)
	}
	l.SetGlobal("obj", value)
	if err := l.DoString(script); err != nil {
		return nil, err
	}
	returned := l.Get(-1)
	table, ok := returned.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("expect table output from Lua script, not %s", returned.Type())
	}
	encoded, err := luajson.Encode(table)
	if err != nil {
		return nil, err
	}
	var result health
	if err := json.Unmarshal(encoded, &result); err != nil {
		return nil, err
	}
	if !healthCodes[result.Status] {
		return nil, fmt.Errorf("Lua returned an invalid health status %q", result.Status)
	}
	return &result, nil
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "argocd-health:", message)
	os.Exit(1)
}
