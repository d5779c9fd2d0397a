// SPDX-License-Identifier: GPL-2.0
//
// A Go function that serves HTTP with net/http, as platforms run them: it
// listens on the address its arguments give (default 127.0.0.1 8080) and
// answers every GET or POST with the JSON reply and checksum that
// http_fn.py gives, so that the two can be compared byte for byte.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

func answer(w http.ResponseWriter, r *http.Request) {
	request, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	reply := "hello"
	sum := sha256.Sum256(append(request, reply...))
	body := fmt.Sprintf(`{"reply": "%s", "checksum": "%s"}`, reply,
		hex.EncodeToString(sum[:])[:16])
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	io.WriteString(w, body)
}

func main() {
	host, port := "127.0.0.1", "8080"
	if len(os.Args) > 2 {
		host, port = os.Args[1], os.Args[2]
	}
	http.HandleFunc("/", answer)
	err := http.ListenAndServe(net.JoinHostPort(host, port), nil)
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
