# t/lib-pb.sh: hand-written protobuf and pp-render's failure checks, for
# tests that build hostile profiles byte by byte. Source it after lib.sh.
#
# Protobuf as hex words: pb_varint VALUE (negative values take 10 bytes, as
# two's complement), pb_int FIELD VALUE, pb_len FIELD HEX... (a message or
# packed values), pb_str STRING (a string_table entry, any bytes but NUL);
# pb_write HEX... writes the bytes.
pb_varint() {
	local v=$1
	while [ $((v >> 7)) != 0 ]; do
		printf '%02x ' $(((v & 127) | 128))
		v=$(((v >> 7) & ((1 << 57) - 1)))	# a logical shift
	done
	printf '%02x ' "$v"
}
pb_int() { printf '%s%s' "$(pb_varint $(($1 << 3)))" "$(pb_varint "$2")"; }
pb_len() {
	local f=$1
	shift
	set -- $*
	printf '%s%s%s ' "$(pb_varint $((($f << 3) | 2)))" "$(pb_varint $#)" "$*"
}
pb_str() { pb_len 6 $(printf %s "$1" | od -An -v -tx1); }
pb_write() { printf "$(printf '\\x%s' $*)"; }

# check_error ERE: the command run just before wrote nothing to out, and one
# line to err, "pp-render: ..." matching ERE.
check_error() {
	cat err &&
	if [ -s out ]; then
		echo "stdout is not empty:" && head -c 500 out && echo
		return 1
	fi &&
	test_line_count = 1 err &&
	grep -q '^pp-render: ' err &&
	grep -E -- "$1" err
}

# render_fails FORMAT ERE ARGS...: pp-render -f FORMAT ARGS... exits 1 with
# one line on stderr matching ERE and nothing on stdout.
render_fails() {
	local fmt=$1 re=$2
	shift 2
	test_expect_code 1 pp-render -f "$fmt" "$@" >out 2>err &&
	check_error "$re"
}
