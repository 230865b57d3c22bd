#!/usr/bin/env bash
# The classic etcd v2 notification loop, with nothing but curl and bash.
#
#   curl-watch-loop.sh watch URL KEY COUNT   waits for COUNT changes of KEY and prints "modifiedIndex value" for
#                                            each: the first watch has no waitIndex, each next one asks for
#                                            modifiedIndex+1, and a watch the server closed early (empty reply)
#                                            is asked again
#   curl-watch-loop.sh put URL KEY COUNT     sets KEY to v1..vCOUNT, printing "modifiedIndex value" for each
#
# Replies are read with bash's own regex (a plain key's "node" object holds no braces). An error reply or a
# failed curl ends the script with a non-zero status and the reason on stderr.
set -euo pipefail

(($# == 4)) || { echo "usage: $0 watch|put URL KEY COUNT" >&2; exit 2; }
mode=$1 url=$2 key=$3 count=$4

# Sets index and value from the reply's node.
read_node() {
    local reply=$1 node
    [[ $reply =~ \"node\":\{([^{}]*)\} ]] || { echo "no node in reply: $reply" >&2; return 1; }
    node=${BASH_REMATCH[1]}
    [[ $node =~ \"modifiedIndex\":([0-9]+) ]] || { echo "no modifiedIndex in reply: $reply" >&2; return 1; }
    index=${BASH_REMATCH[1]}
    [[ $node =~ \"value\":\"([^\"]*)\" ]] || { echo "no value in reply: $reply" >&2; return 1; }
    value=${BASH_REMATCH[1]}
}

case $mode in
watch)
    query="wait=true"
    seen=0
    while ((seen < count)); do
        reply=$(curl -sS --max-time 60 "$url/v2/keys/$key?$query")
        [[ -n $reply ]] || continue
        read_node "$reply"
        echo "$index $value"
        query="wait=true&waitIndex=$((index + 1))"
        seen=$((seen + 1))
    done
    ;;
put)
    for ((i = 1; i <= count; i++)); do
        reply=$(curl -sS --max-time 30 -XPUT "$url/v2/keys/$key" -d "value=v$i")
        read_node "$reply"
        echo "$index $value"
    done
    ;;
*)
    echo "unknown mode '$mode'; expected watch or put" >&2
    exit 2
    ;;
esac
