#!/bin/bash
# Each tool's -h usage is its man page's SYNOPSIS.
. "$(dirname "$0")/lib.sh"

command -v man >/dev/null 2>&1 || skip_all 'man is not installed'

squeeze() { tr -s ' \n' '  ' | sed 's/^ //; s/ $//'; }

for tool in "$SRC_ROOT"/cmd/pp-*.c; do
	tool=$(basename "$tool" .c)
	page=$(ls "$SRC_ROOT"/man/"$tool".[18] 2>/dev/null | head -n 1)
	test_expect_success "$tool -h matches its man page" '
		test -n "$page" &&
		MANWIDTH=200 man -l "$page" 2>/dev/null |
		sed -n "/^SYNOPSIS/,/^DESCRIPTION/p" | sed "1d;\$d" |
		squeeze >synopsis &&
		$tool -h >usage &&
		sed -n "/^usage: /,/^[^ u]/p" usage | grep -v "^[^ u]" |
		sed "s/^usage: //" | squeeze >from-h &&
		test -s from-h &&
		test_cmp synopsis from-h
	'
	test_expect_success "$tool with a bad option says how to use it" '
		test_expect_code 2 $tool --no-such-option 2>err &&
		grep "^usage: $tool" err
	'
done

test_done
