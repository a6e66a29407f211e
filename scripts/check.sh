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
echo "check: layering ok"

# The house style is the repository's .clang-format; a file that differs
# from it fails, so formatting never drifts again.
if ! clang-format --dry-run -Werror $(git ls-files '*.c' '*.h' 2>/dev/null ||
        find server imaging db tests scripts -name '*.[ch]'); then
    echo "check: run clang-format -i on the files above" >&2
    exit 1
fi
echo "check: format ok"
