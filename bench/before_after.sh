#!/usr/bin/env bash
# before_after.sh: the measurements of issue 11 in one run, before and after: a baseline commit
# (default 13959aa, the last commit before the issue's refactor) against this checkout's HEAD.
#
# The baseline is checked out in its own git worktree (default: this checkout's path +
# "-baseline") and both trees are built Release (preset "release", only the binaries used here).
# The benchmark scripts and the corpus are always this checkout's, so both sides get the same
# load; only the binaries differ (bench/policy_load.cpp, slow_fsync.cpp, policy_floor.cpp and
# akismet_handle.cpp are unchanged since 13959aa).
#
# Rounds run A (baseline), B (HEAD), A, B, ... so that the machine's drift shows as the spread
# within each side rather than as a difference between them. Each round, for each side:
#   - bench/greylist_anchors.sh BUILD --quick --servers greyflux --triplets 0 --fsync-rounds 1
#     (req/s and server CPU per request for new / within / after; the anchors postgrey and
#     gross are left out unless --anchors: they do not change between the two sides);
#   - bench/akismet/run.sh BUILD/greyflux SECONDS (comment-check, submit-spam, the nginx anchor);
#   - gf_akismet_handle CHECKS SUBMITS (the comment API in process, no network; microseconds per
#     comment-check), HANDLE_REPEATS times, and its total CPU time under `perf stat`.
# Once per side (it is deterministic): the mail evaluation,
#   GF_EVAL_NO_SPEED=1 BUILD/bench/gf_mail_eval CORPUS/manifest.tsv
# on the corpus of bench/sa_corpus.py (the baseline binary ignores GF_EVAL_NO_SPEED and also
# prints its throughput lines; about 18 minutes per side on 2 busy cores; --no-mail skips it).
# With --instructions, once per side: instructions per request counted by callgrind, which do
# not depend on the machine's load: a comment-check (gf_akismet_handle at 6000 and at 2000
# checks, 2000 submits each: the difference over 4000) and a greylist decision in mode new
# (bench/greylist_instructions.sh at 30000 and at 10000 requests: the difference over 20000,
# so start-up cost drops out). About 15 minutes for both sides.
#
# Usage: bash bench/before_after.sh [--base REV] [--baseline-dir DIR] [--rounds N]
#          [--akismet-secs S] [--handle CHECKS,SUBMITS,REPEATS] [--corpus DIR] [--anchors]
#          [--no-mail] [--instructions] [--out FILE]
# Prints the raw output of every run and, at the end, one table: each figure per round and side,
# the median of each side and median(B)/median(A). --out also writes everything to FILE.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE_REV=13959aa
BASE_DIR=""
ROUNDS=3
AK_SECS=10
HANDLE="100000,10000,3"
CORPUS=$ROOT/build/corpus
ANCHORS=0
MAIL=1
INSTR=0
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --base) BASE_REV=$2; shift ;;
    --baseline-dir) BASE_DIR=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --akismet-secs) AK_SECS=$2; shift ;;
    --handle) HANDLE=$2; shift ;;
    --corpus) CORPUS=$2; shift ;;
    --anchors) ANCHORS=1 ;;
    --no-mail) MAIL=0 ;;
    --instructions) INSTR=1 ;;
    --out) OUT=$2; shift ;;
    *) echo "before_after: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
: "${BASE_DIR:=$ROOT-baseline}"
IFS=, read -r H_CHECKS H_SUBMITS H_REPEATS <<<"$HANDLE"
if [ -n "$OUT" ]; then
  mkdir -p "$(dirname "$OUT")"
  exec > >(tee "$OUT") 2>&1
fi

TARGETS=(greyflux gf_policy_load gf_slow_fsync gf_policy_floor gf_mail_eval gf_akismet_handle)
log() { echo "# $*"; }

# ---- the two trees -----------------------------------------------------------------------------
if [ ! -d "$BASE_DIR" ]; then
  git -C "$ROOT" worktree add --detach "$BASE_DIR" "$BASE_REV" >/dev/null
fi
want=$(git -C "$ROOT" rev-parse "$BASE_REV^{commit}")
have=$(git -C "$BASE_DIR" rev-parse HEAD)
[ "$want" = "$have" ] || { echo "before_after: $BASE_DIR is at $have, not $BASE_REV" >&2; exit 2; }
build() {  # build TREE
  (cd "$1" && cmake --preset release >/dev/null &&
    nice -n 5 cmake --build build/release -j2 --target "${TARGETS[@]}" >/dev/null)
}
log "building $BASE_REV in $BASE_DIR and HEAD $(git -C "$ROOT" rev-parse --short HEAD) in $ROOT"
build "$BASE_DIR"
build "$ROOT"
declare -A BUILD=([A]=$BASE_DIR/build/release [B]=$ROOT/build/release)
declare -A NAME=([A]="before $(git -C "$BASE_DIR" rev-parse --short HEAD)"
  [B]="after $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD || echo +dirty)")

# Every run in a scratch working directory: a binary that writes relative state (the baseline's
# var/ defaults) leaves nothing in the trees.
SCRATCH=$(mktemp -d /tmp/gf-before-after.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
cd "$SCRATCH"

declare -A V  # V[metric,side,round] = value
declare -A I  # I[comment|greylist,side] = instructions per request (--instructions)
METRICS=()
put() {  # put METRIC SIDE ROUND VALUE
  local m=$1
  [[ " ${METRICS[*]} " == *" $m "* ]] || METRICS+=("$m")
  V[$m,$2,$3]=$4
}

# ---- the runs ----------------------------------------------------------------------------------
greylist_run() {  # SIDE ROUND
  local out servers=greyflux
  [ "$ANCHORS" = 0 ] || servers=postgrey,gross,greyflux
  log "[$1 round $2] bench/greylist_anchors.sh ${BUILD[$1]} --quick --servers $servers" \
    "--triplets 0 --fsync-rounds 1"
  out=$(bash "$ROOT/bench/greylist_anchors.sh" "${BUILD[$1]}" --quick --servers "$servers" \
    --triplets 0 --fsync-rounds 1 2>/dev/null) || true
  echo "$out"
  local mode line
  for mode in new within after; do
    line=$(awk -v m="$mode" '$1 == m && $2 == "greyflux"' <<<"$out")
    put "greylist $mode req/s" "$1" "$2" "$(awk '{ print $3 }' <<<"$line")"
    put "greylist $mode cpu_us/req" "$1" "$2" "$(awk '{ print $8 }' <<<"$line")"
  done
}

akismet_run() {  # SIDE ROUND
  local out
  log "[$1 round $2] bench/akismet/run.sh ${BUILD[$1]}/greyflux $AK_SECS"
  out=$(bash "$ROOT/bench/akismet/run.sh" "${BUILD[$1]}/greyflux" "$AK_SECS" 2>/dev/null) || true
  echo "$out"
  put "comment-check req/s (wrk)" "$1" "$2" \
    "$(awk '/^greyflux comment-check/ { print $3 }' <<<"$out")"
  put "comment-check p99 ms (wrk)" "$1" "$2" \
    "$(awk '/^greyflux comment-check/ { print $5 }' <<<"$out")"
  put "comment-check / nginx" "$1" "$2" \
    "$(sed -n 's/^ratio greyflux\/nginx checks\/s: \([0-9.]*\).*/\1/p' <<<"$out")"
  put "submit-spam req/s (wrk)" "$1" "$2" \
    "$(awk '/^greyflux submit-spam/ { print $4 }' <<<"$out")"
}

handle_run() {  # SIDE ROUND
  local i out us=() cpu=()
  for i in $(seq 1 "$H_REPEATS"); do
    log "[$1 round $2] perf stat -x, -e task-clock ${BUILD[$1]}/bench/gf_akismet_handle" \
      "$H_CHECKS $H_SUBMITS"
    out=$(perf stat -x, -e task-clock -o "$SCRATCH/perf.txt" \
      "${BUILD[$1]}/bench/gf_akismet_handle" "$H_CHECKS" "$H_SUBMITS" 2>/dev/null) || true
    echo "$out; $(grep task-clock "$SCRATCH/perf.txt" | cut -d, -f1) ms task-clock"
    us+=("$(sed -n 's/.*comment-check \([0-9.]*\) us.*/\1/p' <<<"$out")")
    cpu+=("$(grep task-clock "$SCRATCH/perf.txt" | cut -d, -f1)")
  done
  put "handle comment-check us (min of $H_REPEATS)" "$1" "$2" \
    "$(printf '%s\n' "${us[@]}" | grep -E '^[0-9.]+$' | sort -g | head -1)"
  put "handle task-clock ms (min of $H_REPEATS)" "$1" "$2" \
    "$(printf '%s\n' "${cpu[@]}" | grep -E '^[0-9.]+$' | sort -g | head -1)"
}

mail_run() {  # SIDE
  log "[$1] GF_EVAL_NO_SPEED=1 ${BUILD[$1]}/bench/gf_mail_eval $CORPUS/manifest.tsv"
  GF_EVAL_NO_SPEED=1 "${BUILD[$1]}/bench/gf_mail_eval" "$CORPUS/manifest.tsv" \
    >"$SCRATCH/mail-$1.txt" 2>&1 || true
  cat "$SCRATCH/mail-$1.txt"
}

# instructions_run SIDE: callgrind counts (user space, all threads), marginal per request.
instructions_run() {
  local b=${BUILD[$1]} n ir=() g=()
  for n in 2000 6000; do
    log "[$1] valgrind --tool=callgrind $b/bench/gf_akismet_handle $n 2000"
    valgrind --tool=callgrind --callgrind-out-file="$SCRATCH/cg-$1-$n.out" \
      "$b/bench/gf_akismet_handle" "$n" 2000 >/dev/null 2>&1 || true
    ir+=("$(awk '/^(summary|totals):/ { print $2; exit }' "$SCRATCH/cg-$1-$n.out")")
  done
  echo "callgrind totals ${ir[*]}"
  I[comment,$1]=$(((ir[1] - ir[0]) / 4000))
  for n in 10000 30000; do
    log "[$1] bench/greylist_instructions.sh $b $n new"
    g+=("$(bash "$ROOT/bench/greylist_instructions.sh" "$b" "$n" new 2>/dev/null |
      sed -n 's/.*instructions_per_request=\([0-9]*\).*/\1/p')")
  done
  echo "greylist instructions per request (total / requests) at 10000, 30000: ${g[*]}"
  I[greylist,$1]=$(((g[1] * 30000 - g[0] * 10000) / 20000))
}

log "$(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); $ROUNDS rounds A/B; " \
  "A = ${NAME[A]}, B = ${NAME[B]}"
START=$(date +%s)
for r in $(seq 1 "$ROUNDS"); do
  for side in A B; do
    log "== round $r side $side (${NAME[$side]}), $(date -u +%H:%M:%S), load" \
      "$(cut -d' ' -f1-3 /proc/loadavg)"
    greylist_run "$side" "$r"
    akismet_run "$side" "$r"
    handle_run "$side" "$r"
  done
done
if [ "$INSTR" = 1 ]; then
  for side in A B; do
    instructions_run "$side"
  done
fi
if [ "$MAIL" = 1 ]; then
  if [ ! -f "$CORPUS/manifest.tsv" ]; then
    python3 "$ROOT/bench/sa_corpus.py" "$CORPUS"
  fi
  for side in A B; do
    mail_run "$side"
  done
fi

# ---- the table ---------------------------------------------------------------------------------
median() { grep -E '^[0-9.]+$' | sort -g | awk '{ v[NR] = $1 } END {
  if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
  else printf "%.4g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "before/after: A = ${NAME[A]}, B = ${NAME[B]}; $ROUNDS rounds run A,B,A,B...;" \
  "$(date -u +%Y-%m-%dT%H:%MZ), load average now $(cut -d' ' -f1-3 /proc/loadavg)," \
  "$(($(date +%s) - START)) s"
header=$(printf '%-36s' metric)
for r in $(seq 1 "$ROUNDS"); do header+=$(printf ' %9s %9s' "A$r" "B$r"); done
header+=$(printf ' %9s %9s %7s' "med A" "med B" "B/A")
echo "$header"
for m in "${METRICS[@]}"; do
  row=$(printf '%-36s' "$m")
  a=() b=()
  for r in $(seq 1 "$ROUNDS"); do
    row+=$(printf ' %9s %9s' "${V[$m,A,$r]:--}" "${V[$m,B,$r]:--}")
    a+=("${V[$m,A,$r]:-}") b+=("${V[$m,B,$r]:-}")
  done
  ma=$(printf '%s\n' "${a[@]}" | median)
  mb=$(printf '%s\n' "${b[@]}" | median)
  ratio=$(awk -v a="$ma" -v b="$mb" 'BEGIN { if (a + 0 == 0 || b == "-") print "-";
    else printf "%.3f", b / a }')
  row+=$(printf ' %9s %9s %7s' "$ma" "$mb" "$ratio")
  echo "$row"
done
if [ "$INSTR" = 1 ]; then
  echo
  echo "instructions per request (callgrind, user space, all threads; independent of the load):"
  for k in comment greylist; do
    printf '%-36s A %9s  B %9s  B/A %s\n' \
      "$([ $k = comment ] && echo "comment-check (gf_akismet_handle)" || echo "greylist decision, mode new")" \
      "${I[$k,A]:--}" "${I[$k,B]:--}" \
      "$(awk -v a="${I[$k,A]:-0}" -v b="${I[$k,B]:-0}" 'BEGIN { if (a > 0) printf "%.4f", b / a; else print "-" }')"
  done
fi
if [ "$MAIL" = 1 ]; then
  echo
  echo "mail evaluation (GF_EVAL_NO_SPEED=1 gf_mail_eval $CORPUS/manifest.tsv), accuracy rows:"
  for side in A B; do
    echo "-- $side (${NAME[$side]})"
    grep -E '^(default|previous|logistic|fisher|blend)' "$SCRATCH/mail-$side.txt" || true
  done
fi
