# Shell functions for tests that hand pp-recv requests on a pipe, as inetd
# hands it a connection. Source it after lib.sh.

# recv_push OWNER FILE: stores FILE as OWNER's (the token in OWNER.token)
# in the store ${RECV_STORE:-store}, as pp-recv does for pp-push; the
# answer is in resp, pp-recv's log in recv.log. Fails unless it is 200.
recv_push() {
	{
		printf 'POST /v1/push HTTP/1.1\r\nHost: pp\r\n'
		printf 'Authorization: Bearer %s\r\n' "$(cat "$1.token")"
		printf 'Content-Length: %d\r\n\r\n' "$(wc -c <"$2")"
		cat "$2"
	} >req &&
	pp-recv -d "${RECV_STORE:-store}" -L recv.log <req >resp &&
	head -n 1 resp | grep -q '^HTTP/1.1 200'
}

# recv_crash STORE TOKENFILE: kills (-9) a pp-recv that holds STORE, as it
# waits for the rest of a request's body; the next process to open STORE
# recovers it. Fails if the pp-recv never held it.
recv_crash() {
	local pid i=0 held
	# (Not "mkfifo ... &&": that would put both in the background job,
	# and $! would be its shell.)
	rm -f in.fifo && mkfifo in.fifo || return 1
	pp-recv -d "$1" -L crash.log <in.fifo >/dev/null &
	pid=$!
	exec 7>in.fifo
	printf "POST /v1/push HTTP/1.1\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\n\r\nabc" \
		"$(cat "$2")" >&7
	while ! grep -qF "$1/__db.001" /proc/$pid/maps 2>/dev/null &&
	    [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -qF "$1/__db.001" /proc/$pid/maps
	held=$?
	kill -9 $pid
	wait $pid
	exec 7>&-
	rm -f in.fifo
	return $held
}
