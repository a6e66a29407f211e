#!/usr/bin/env bash
# The layering rule of STYLE.md: imaging/ and db/ know nothing of HTTP, JSON
# or each other, and nothing of server/.
set -u
cd "$(dirname "$0")/.."
bad=0
for f in imaging/*.[ch] db/*.[ch]; do
    if grep -HnE '#include *[<"](microhttpd\.h|jansson\.h|curl/|sodium\.h|server/)' "$f"; then
        bad=1
    fi
done
grep -HnE '#include *[<"](sqlite3\.h|db\.h|dbint\.h)' imaging/*.[ch] && bad=1
grep -HnE '#include *[<"](vips/|imaging\.h)' db/*.[ch] && bad=1
if [ $bad -ne 0 ]; then
    echo "check: a layering rule is broken (see the lines above)" >&2
    exit 1
fi

# server/ sees db/ and imaging/ only through their public headers.
private=$(cd db && ls *int.h 2>/dev/null; cd ../imaging && ls *int.h internal.h 2>/dev/null)
private_re=$(echo $private | sed 's/\./\\./g; s/ /|/g')
if [ -n "$private_re" ] &&
    grep -HnE "#include *[<\"]([^\">]*/)?($private_re)[\">]" server/*.[ch]; then
    echo "check: server/ includes a private header of db/ or imaging/" >&2
    exit 1
fi
echo "check: layering ok"

# Every symbol a library exports carries one of its prefixes
# (scripts/prefixes); everything else is static.
build=${BUILD:-build}
while read -r lib prefixes; do
    case $lib in '' | '#'*) continue ;; esac
    if [ ! -f "$build/$lib.a" ]; then
        echo "check: $build/$lib.a not built; run make first" >&2
        exit 1
    fi
    re="^($(echo "$prefixes" | tr ' ' '|'))"
    stray=$(nm -g --defined-only "$build/$lib.a" 2>/dev/null |
        awk 'NF == 3 { print $3 }' | grep -vE "$re")
    if [ -n "$stray" ]; then
        echo "check: $lib exports symbols without its prefix ($prefixes):" >&2
        echo "$stray" >&2
        exit 1
    fi
done <scripts/prefixes
echo "check: symbol prefixes ok"

# No source file over 800 lines: past that a file holds more than one role.
long=$(wc -l $(git ls-files '*.c' '*.h' 2>/dev/null ||
    find server imaging db tests scripts -name '*.[ch]') |
    awk '$2 != "total" && $1 > 800 { print "  " $2 ": " $1 " lines" }')
if [ -n "$long" ]; then
    echo "check: source files over 800 lines:"
    echo "$long"
    exit 1
fi

# The house style is the repository's .clang-format; a file that differs
# from it fails, so formatting never drifts again.
if ! clang-format --dry-run -Werror $(git ls-files '*.c' '*.h' 2>/dev/null ||
        find server imaging db tests scripts -name '*.[ch]'); then
    echo "check: run clang-format -i on the files above" >&2
    exit 1
fi
echo "check: format ok"
