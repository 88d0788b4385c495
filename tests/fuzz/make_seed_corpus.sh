#!/usr/bin/env bash
# Writes the seed corpus of cg_payload_fuzz into OUTDIR: one file per payload.
#   * generated payloads (`contactgate generate`): single contacts, arrays, bulk requests and
#     a mix with many invalid contacts; the same generator feeds the demo and the benchmarks
#   * hand-written hostile payloads: deep nesting, bad UTF-8, BOMs, NUL bytes, scalars,
#     huge numbers, escapes, duplicate keys, limit edges
#
# Usage: tests/fuzz/make_seed_corpus.sh OUTDIR [CONTACTGATE]
# CONTACTGATE defaults to $CONTACTGATE, else the first of build-fuzz, build/dev, build/release.
set -euo pipefail

out=${1:?usage: make_seed_corpus.sh OUTDIR [CONTACTGATE]}
root=$(cd "$(dirname "$0")/../.." && pwd)
cg=${2:-${CONTACTGATE:-}}
if [ -z "$cg" ]; then
  for c in "$root/build-fuzz/src/app/contactgate" "$root/build/dev/src/app/contactgate" \
           "$root/build/release/src/app/contactgate"; do
    if [ -x "$c" ]; then cg=$c; break; fi
  done
fi
if [ -z "$cg" ] || [ ! -x "$cg" ]; then
  echo "make_seed_corpus: no contactgate binary (build one, or pass it as the second argument)" >&2
  exit 2
fi
mkdir -p "$out"

# gen TAG GENERATE-ARGS...: one file per NDJSON line, without the newline.
gen() {
  local tag=$1; shift
  "$cg" generate "$@" | awk -v dir="$out" -v tag="$tag" \
    '{ f = sprintf("%s/gen-%s-%04d", dir, tag, NR); printf "%s", $0 > f; close(f) }'
}
gen single --count 150 --seed 101
gen array  --count 50  --seed 102 --array-ratio 1
gen bulk   --count 50  --seed 103 --bulk-ratio 1
gen mixed  --count 100 --seed 104 --invalid-ratio 0.6 --array-ratio 0.3 --bulk-ratio 0.3

# seed NAME PRINTF-FORMAT: a hand-written payload (printf escapes: \xHH, \0NNN).
seed() { printf -- "$2" > "$out/hostile-$1"; }
# rep N STRING: STRING repeated N times.
rep() { local s=""; for ((i = 0; i < $1; i++)); do s+=$2; done; printf '%s' "$s"; }

ok='"correlation_id":"0123456789abcdef0123456789abcdef","contact_id":"+14155552671","country_iso_code":"US","zip_code":"94107"'
seed valid-contact "{$ok}"
seed empty ''
seed blank ' \n\t\r '
seed bom "\xEF\xBB\xBF{$ok}"
seed bom-only '\xEF\xBB\xBF'
seed bom-twice "\xEF\xBB\xBF\xEF\xBB\xBF{$ok}"
seed bom-array "\xEF\xBB\xBF [{$ok}]"
seed nul-only '\0'
seed nul-in-string '{"correlation_id":"0123456789abcdef\0000123456789abcdef"}'
seed nul-after "{$ok}\0"
seed nul-between '[{"a":1},\0{"b":2}]'
seed ctrl-in-string '{"zip_code":"94\x01107","country_iso_code":"US"}'
seed utf8-invalid-byte '{"correlation_id":"\xFF"}'
seed utf8-overlong '{"contact_id":"\xC0\xAF"}'
seed utf8-surrogate '{"zip_code":"\xED\xA0\x80"}'
seed utf8-truncated '{"country_iso_code":"\xE2\x82"}'
seed utf8-above-max '["\xF4\x90\x80\x80"]'
seed utf8-in-key '{"\xC3\xA9t\xC3\xA9":1,"contact_id":"+33612345678","country_iso_code":"FR"}'
seed utf8-valid '{"zip_code":"\xE2\x82\xAC\xF0\x9F\x98\x80","country_iso_code":"DE"}'
seed deep-32 "$(rep 31 '[')[{}]$(rep 31 ']')"
seed deep-33 "$(rep 32 '[')[{}]$(rep 32 ']')"
seed deep-field-32 "{\"x\":$(rep 30 '[')[]$(rep 30 ']')}"
seed deep-field-33 "{\"x\":$(rep 31 '[')[]$(rep 31 ']')}"
seed deep-bulk "{\"contacts\":[{\"x\":$(rep 29 '{"a":')1$(rep 29 '}')}]}"
seed deep-unclosed "$(rep 4000 '[')"
seed deep-objects "$(rep 2000 '{"a":')"
seed scalar-string '"hello"'
seed scalar-number '-0.5e+10'
seed scalar-true 'true'
seed scalar-null ' null '
seed scalar-trailing '1 2'
seed number-huge '1e400'
seed number-bigint '123456789012345678901234567890'
seed number-in-contact "{$ok,\"score\":1e400,\"n\":-123456789012345678901234567890.5E-999}"
seed number-bad '{"x":01}'
seed number-bad2 '[{"x":-}]'
seed number-bad3 '[{"x":1.}]'
seed literal-bad '{"x":tru}'
seed literal-bad2 '{"x":nul}'
seed trailing-comma '[{"a":1},]'
seed trailing-comma-obj '{"a":1,}'
seed missing-colon '{"a" 1}'
seed mismatched '[{"a":1}}'
seed trailing-garbage "{$ok}x"
seed escapes '{"correlation_id":"\\u0030123456789abcdef0123456789abcdef","contact\\u005fid":"+14155552671","country_iso_code":"\\u0055S","zip_code":"\\t94107\\n"}'
seed escape-pair '{"x":"\\ud83d\\ude00","country_iso_code":"US"}'
seed escape-lone-high '{"correlation_id":"\\ud800"}'
seed escape-lone-low '{"correlation_id":"\\udc00x"}'
seed escape-bad '{"x":"\\q"}'
seed escape-short '{"x":"\\u12"}'
seed escape-nul '{"correlation_id":"\\u0000","contact_id":"+1\\u0000"}'
seed wrong-types '{"correlation_id":1,"contact_id":null,"country_iso_code":["US"],"zip_code":{"a":true}}'
seed dup-key "{$ok,\"contact_id\":\"+14155552671\"}"
seed dup-key-escaped "{$ok,\"zip\\\\u005fcode\":\"1\"}"
seed dup-other-key '{"a":1,"a":2,"contact_id":"+14155552671"}'
seed dup-contacts '{"contacts":[{"a":1}],"contacts":[{"b":2}]}'
seed bulk-dup-field "{\"contacts\":[{$ok}],\"correlation_id\":\"a\",\"correlation_id\":\"b\"}"
seed bulk-empty '{"contacts":[]}'
seed bulk-object '{"contacts":{}}'
seed bulk-scalar-element '{"contacts":[1]}'
seed bulk-extra "{\"request_id\":\"r1\",\"contacts\":[{$ok},{$ok}],\"meta\":{\"a\":[1,2,{}]}}"
seed array-empty '[]'
seed array-scalar '[{"a":1},2]'
seed array-nested '[[{"a":1}]]'
seed array-dup-ids "[{$ok},{\"correlation_id\":\"0123456789ABCDEF0123456789ABCDEF\"},{$ok}]"
seed contacts-100 "[$(rep 99 '{},'){}]"
seed contacts-101 "[$(rep 100 '{},'){}]"
seed hyphenated '{"correlation_id":"01234567-89ab-cdef-0123-456789abcdef","contact_id":"+4915123456789","country_iso_code":"DE","zip_code":" 10115 "}'
seed not-hex '{"correlation_id":"0123456789abcdef0123456789abcdeg","contact_id":"0015551234","country_iso_code":"us"}'
seed no-postal '{"correlation_id":"0123456789abcdef0123456789abcdef","contact_id":"+97145012345","country_iso_code":"AE","zip_code":"12345"}'
seed no-postal-blank '{"correlation_id":"0123456789abcdef0123456789abcdef","contact_id":"+97145012345","country_iso_code":"AE","zip_code":" \\t "}'
seed zip-vt '{"country_iso_code":"US","zip_code":"\\u000b94107\\u000b","contact_id":"+14155552671"}'
seed zip-bad-country '{"country_iso_code":"UK","zip_code":5}'
seed pretty-contact '{\n  "correlation_id" : "0123456789abcdef0123456789abcdef" ,\n\t"contact_id":\t"+14155552671",\r\n  "country_iso_code" :"US" , "zip_code": " 94107 "\n}\n'
seed pretty-array ' [ {"a" : [ 1 , 2 ] } ,\n  { } , {"contact_id" : "+14155552671" }\t]\n'
seed pretty-bulk '{ "contacts" : [\n  { "correlation_id" : "0123456789abcdef0123456789abcdef" } ,\n  {"b":{ "c" : null } }\n ] , "x" : [ ] }'
# strings around the harness's max_string_bytes (1024, unescaped bytes)
seed string-1024 "{\"x\":\"$(rep 1024 a)\",\"contact_id\":\"+14155552671\"}"
seed string-1025 "{\"x\":\"$(rep 1025 a)\",\"contact_id\":\"+14155552671\"}"
seed key-1025 "[{\"$(rep 1025 k)\":1}]"
seed zip-1025 "{\"country_iso_code\":\"US\",\"zip_code\":\"$(rep 1025 9)\"}"
seed string-escaped-short "{\"x\":\"$(rep 300 '\\u00e9')\"}"
seed string-multibyte-long "{\"x\":[\"$(rep 600 $'\xc3\xa9')\"]}"
seed string-root-long "\"$(rep 1100 s)\""
seed e164 '[{"contact_id":"+"},{"contact_id":"+0123"},{"contact_id":"+1234567890123456"},{"contact_id":"+1a"},{"contact_id":"+14152671"},{"contact_id":"+10000000000"}]'

n=$(find "$out" -maxdepth 1 -type f | wc -l)
echo "make_seed_corpus: $n seeds in $out"
