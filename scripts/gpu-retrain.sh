#!/usr/bin/env bash
# Retrain the bundled models on a lent GPU with the project's own `train` commands.
#
#   bash scripts/gpu-retrain.sh all OUT      (one call, ~9 min) train three teacher readers side by
#                                            side, average their weights (`train soup`), then
#                                            distil a student from the teachers, starting from
#                                            the average; pack the best of them by dev F1 into OUT
#   WITH_TAGGERS=1 ... all OUT, then
#   bash scripts/gpu-retrain.sh taggers OUT  (call 2, seconds) also train two tagger recipes in
#                                            call 1 and pack the better one
#   bash scripts/gpu-retrain.sh teachers OUT (one call) only the teachers, for the whole call, and
#                                            pack their average: to average later with the
#                                            bundled reader here (`train soup --weights 4 5`:
#                                            the bundled reader averages five). TEACHERS readers
#                                            (default 4) with seeds from TEACHER_SEED0 (default 4:
#                                            the bundled reader already averages seeds 1-3)
#   bash scripts/gpu-retrain.sh reader OUT   train one reader alone (READER_LR, READER_MINUTES)
#
# Why this shape: a lent GPU comes for 15 minutes in all (start and idle time included), one
# call runs at most 10 minutes, only the checkout travels (64 MiB) and at most 64 MiB come back
# per call. The base model (45 MB as fp16) plus the data fill the checkout, so the bundled
# models cannot travel too: the teachers are trained in the same call. Only one model fits in
# what a call returns, hence a second, short call for the taggers, which must reach the machine
# within its 30 s of idle warmth (so the taggers are off by default). An earlier two-call plan
# (teachers in call 1, the bundled reader as a fourth teacher in call 2) ran out of time.
# `all` keeps to DEADLINE seconds (default 530) from its start: the student's time budget is
# what is left after the teachers minus STUDENT_OVERHEAD (tokenising, reading the teachers,
# the dev evaluation), and every step is logged with its time to OUT/progress.log, which comes
# back even when the call is cut off.
# Call 1 expects
#   carry/base                          the base model converted to fp16 (45 MB instead of 90 MB)
#   carry/squad-v1.1-train.json.gz      and carry/data.tar.xz: the other files of ../shared/data
# and unpacks the data to ../shared/data so the recorded commands are the ones a user types.
# Readers train on a time budget (--max-minutes: the learning rate warms up and decays on the
# clock), so a shared GPU still ends each run with a decayed schedule. TINY=1 runs a few steps
# of everything, to test the script on a CPU first.
set -uo pipefail
cd "$(dirname "$0")/.."
stage=${1:?all, teachers, taggers or reader}
out=${2:?output folder}
PY=${PY:-python3}
WORK=${WORK:-/tmp/answerspan-gpu}
READER_MINUTES=${READER_MINUTES:-3.5}
DEADLINE=${DEADLINE:-530}
STARTED=$SECONDS
TINY=${TINY:-0}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=true
D=../shared/data
mkdir -p "$out" "$WORK/logs"
out=$(cd "$out" && pwd)  # absolute: some steps run from $WORK

say() {  # say MESSAGE: print and log with the seconds since the start of this call
  echo "[$((SECONDS - STARTED)) s] $*" | tee -a "$out/progress.log"
}

pack_model() {  # pack_model DIR NAME: the model folder as one tar in 15 MiB parts (NAME.tar.partNN)
  # (the word-embedding tensor alone is 23 MB, so even 15 MB safetensors shards can be too big)
  local dir=$1 name=$2
  rm -rf "$out/$name"
  mkdir -p "$out/$name"
  tar -cf - -C "$dir" --exclude='_trainer' . | split -b 15M -d - "$out/$name/$name.tar.part"
}

best_by() {  # best_by KEY DIR... : the directory whose summary scores highest (KEY: reader|taggers)
  "$PY" - "$@" <<'EOF'
import json, sys
from pathlib import Path
key, dirs = sys.argv[1], sys.argv[2:]
def score(d):
    try:
        if key == "reader":
            return json.loads((Path(d) / "training_summary.json").read_text())["dev"]["f1"]
        reports = json.loads((Path(d) / "train_summary.json").read_text())["dev"]
        # The app takes bias from the bundled bias model, not the taggers' head: leave it out.
        kept = [r for name, r in reports.items() if not name.startswith("bias:")]
        return sum(r["macro_f1"] for r in kept) / len(kept)
    except (OSError, KeyError, ValueError, ZeroDivisionError):
        return float("-inf")
scores = {d: score(d) for d in dirs}
print(json.dumps(scores), file=sys.stderr)
print(max(scores, key=scores.get))
EOF
}

if [ "$stage" = taggers ]; then
  for t in taggers-a taggers-b; do  # normally done long before; wait in case
    while [ ! -f "$WORK/$t.done" ]; do sleep 2; done
  done
  best=$(best_by taggers "$WORK"/taggers-?) || exit 1
  echo "packing $best"
  pack_model "$best" taggers
  tar -czf "$out/taggers-runs.tgz" -C "$WORK" --exclude='*.safetensors' logs taggers-a taggers-b
  exit 0
fi

if [ ! -d "$D" ]; then  # on the GPU machine: the data travelled in carry/
  mkdir -p ../shared && tar -xJf carry/data.tar.xz -C ../shared || exit 1
  cp carry/squad-v1.1-train.json.gz "$D/qa/" || exit 1
fi
nvidia-smi --query-gpu=name,memory.total --format=csv 2>/dev/null | tee -a "$WORK/logs/gpu.txt"
"$PY" -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$WORK/logs/gpu.txt"

reader_tiny=() classifier_tiny=() eval_tiny=() reader_bf16=(--bf16)
if [ "$TINY" = 1 ]; then
  reader_tiny=(--limit-train 200 --max-steps 3 --dev-limit 40)
  reader_bf16=()  # bf16 autocast crawls on CPUs without bf16 units
  classifier_tiny=(--limit-train 40 --max-steps 3 --limit-dev 30)
  eval_tiny=(--limit 60)
fi
# Tweets and film reviews: neutral on news dev scores, +0.09 macro-F1 on tweets (bench/sentiment_mix.sh).
# The biased-word loss (--word-loss 2): bias-only, +0.015 bias macro-F1 on average over three
# seeds (bench/bias_word_loss.sh); in one multi-task CPU run, no gain. So the two tagger runs
# are the bundled recipe with and without it, and the better mean dev macro-F1 of sentiment and
# topic is kept (bias comes from the bundled bias model, trained on the CPU: resources/models/bias).
SENTIMENT_EXTRA=("sentiment=$D/sentiment/semeval2017-4a/twitter-2016train-A.tsv"
  "sentiment=$D/sentiment/sst5/train.txt")
SUBJQA=("$D"/qa/extra/subjqa/{electronics,grocery,restaurants,tripadvisor}/splits/train.csv)

train_reader() {  # train_reader NAME LR BATCH SEED MINUTES DEV_LIMIT [more train-reader options]
  local name=$1 lr=$2 batch=$3 seed=$4 minutes=$5 dev_limit=$6
  shift 6
  "$PY" -m assistant train reader \
    --train "$D/qa/squad-v1.1-train.json.gz" "$D/qa/extra/squad-v2.0-train-first10articles.json" \
      "${SUBJQA[@]}" \
    --dev "$D/qa/squad-v1.1-dev.json.gz" --dev-limit "$dev_limit" --base "${base:-carry/base}" \
    --negatives-ratio 0.15 --batch-size "$batch" --lr "$lr" --warmup 0.1 --seed "$seed" \
    --max-length 256 --stride 96 --epochs 20 --max-minutes "$minutes" "${reader_bf16[@]}" "${reader_tiny[@]}" \
    "$@" --out "$WORK/$name"
}

train_taggers() {  # train_taggers NAME EPOCHS LR BATCH WORD_LOSS
  "$PY" -m assistant train classifier --task sentiment,bias,topic \
    --train "sentiment=$D/sentiment/financial-phrasebank-train.csv" \
      "sentiment=$D/sentiment/newsmtsc/train.jsonl" "bias=$D/bias/babe-sg2-train.csv" \
      "topic=$D/topic/bbc-news-train.csv" "${SENTIMENT_EXTRA[@]}" \
    --dev "sentiment=$D/sentiment/newsmtsc/devtest_mt.jsonl" \
      "sentiment=$D/sentiment/semeval2017-4a/twitter-2016dev-A.tsv" "sentiment=$D/sentiment/sst5/dev.txt" \
    --epochs "$2" --lr "$3" --batch-size "$4" --max-length 96 topic=128 --word-loss "$5" --base carry/base \
    "${classifier_tiny[@]}" --out "$WORK/$1"
}

pack_best_and_exit() {  # pack_best_and_exit DIR...: the best reader of DIRs by dev F1 into OUT,
  # with their logs and summaries (no weights) in OUT/runs.tgz
  local best
  best=$(best_by reader "$@" 2>>"$out/progress.log")
  say "best on dev: $best"
  [ -f "$best/training_summary.json" ] && pack_model "$best" reader && say "packed $best"
  (cd "$WORK" && tar -czf "$out/runs.tgz" --exclude='*.safetensors' --exclude='_trainer' \
    --exclude='*.arrow' logs "${@#"$WORK"/}" 2>/dev/null)
  say "packed"
  ls -la "$out" "$out"/*
  exit 0
}

in_background() {  # in_background NAME COMMAND...: run detached; write NAME.done with its status
  local name=$1
  shift
  rm -f "$WORK/$name.done"
  setsid bash -c "$(declare -p D PY WORK reader_tiny reader_bf16 classifier_tiny SENTIMENT_EXTRA SUBJQA); \
    $(declare -f train_reader train_taggers); $*; echo \$? >'$WORK/$name.done'" \
    >"$WORK/logs/$name.log" 2>&1 </dev/null &
}

if [ "$stage" = all ] || [ "$stage" = teachers ]; then
  # Seeds of the bundled recipe share the GPU (a 22M model leaves it mostly idle alone: three
  # ran as fast each as one alone on an H200); with `all`, their mean logits then teach a
  # student. With `teachers` they have the whole call: about 150 s go to starting, tokenising,
  # the dev evaluations, the average and packing (measured on 2026-11-27).
  if [ "$stage" = teachers ]; then
    n_teachers=${TEACHERS:-4} seed0=${TEACHER_SEED0:-4}
    teacher_minutes=${TEACHER_MINUTES:-$("$PY" -c "print(round(($DEADLINE - 150) / 60, 2))")}
  else
    n_teachers=${TEACHERS:-3} seed0=${TEACHER_SEED0:-1} teacher_minutes=${TEACHER_MINUTES:-3.5}
  fi
  seeds=$(seq "$seed0" $((seed0 + n_teachers - 1)))
  TEACHER_DEV_LIMIT=${TEACHER_DEV_LIMIT:-2000}
  for i in $seeds; do
    in_background "teacher-$i" train_reader "teacher-$i" 2e-4 64 "$i" "$teacher_minutes" \
      "$TEACHER_DEV_LIMIT"
  done
  # The taggers would take a share of the GPU from the teachers, and only one model fits in
  # what a call returns (the taggers come back in a second call, which must follow within the
  # machine's 30 s of idle warmth): they train here only with WITH_TAGGERS=1.
  if [ "${WITH_TAGGERS:-0}" = 1 ]; then
    in_background taggers-a train_taggers taggers-a 5 5e-5 32 2
    in_background taggers-b train_taggers taggers-b 5 5e-5 32 0
  fi
  say "started teachers (seeds $(echo $seeds), $teacher_minutes min each), taggers: ${WITH_TAGGERS:-0}"
  teachers=()
  for i in $seeds; do
    while [ ! -f "$WORK/teacher-$i.done" ]; do sleep 2; done
    say "teacher-$i exit $(cat "$WORK/teacher-$i.done"): $(grep -v 'it/s]' "$WORK/logs/teacher-$i.log" | grep -E 'dev .*F1' | tail -n 1)"
    [ "$(cat "$WORK/teacher-$i.done")" = 0 ] && teachers+=("$WORK/teacher-$i")
  done
  # The teachers' weight average (one reader's cost at inference) is both a candidate and the
  # student's start: from there a short, gentle distillation from the ensemble refines it.
  student_base=carry/base student_lr=2e-4
  if [ ${#teachers[@]} -ge 2 ]; then
    "$PY" -m assistant train soup --reader "${teachers[@]}" --dev "$D/qa/squad-v1.1-dev.json.gz" \
      --dev-limit "$TEACHER_DEV_LIMIT" --out "$WORK/soup" >"$WORK/logs/soup.log" 2>&1
    say "soup exit $?: $(grep -E 'dev .*F1' "$WORK/logs/soup.log" | tail -n 1)"
    [ -f "$WORK/soup/training_summary.json" ] && student_base=$WORK/soup \
      student_lr=${SOUP_STUDENT_LR:-5e-5}
  fi
  [ "$stage" = teachers ] && pack_best_and_exit "$WORK"/teacher-*/ "$WORK/soup"
  distill=()
  [ ${#teachers[@]} -gt 0 ] && distill=(--teacher "${teachers[@]}" \
    --distill-alpha "${DISTILL_ALPHA:-0.7}" --distill-temperature 2)
  left=$((DEADLINE - (SECONDS - STARTED) - ${STUDENT_OVERHEAD:-150}))
  minutes=$("$PY" -c "print(round(max(0.5, min($READER_MINUTES, $left / 60)), 2))")
  say "student: $minutes min from $student_base at lr $student_lr, teachers: ${teachers[*]:-none}"
  # Pack the best reader so far first: a call cut off during the student still returns one.
  best=$(best_by reader "$WORK"/teacher-*/ "$WORK/soup" 2>>"$out/progress.log")
  [ -f "$best/training_summary.json" ] && pack_model "$best" reader && say "packed $best"
  base=$student_base train_reader student "$student_lr" 64 42 "$minutes" "$TEACHER_DEV_LIMIT" \
    "${distill[@]}" >"$WORK/logs/student.log" 2>&1
  say "student exit $?: $(grep -v 'it/s]' "$WORK/logs/student.log" | grep -E 'saved reader|dev .*F1' | tail -n 2 | tr '\n' ' ')"
  # Keep whichever reader scored best on the same first dev questions.
  pack_best_and_exit "$WORK"/teacher-*/ "$WORK/soup" "$WORK/student"
fi

if [ "$stage" = reader ]; then  # one reader with the whole GPU
  train_reader reader-solo "${READER_LR:-2e-4}" 64 42 "$READER_MINUTES" 0 2>&1 |
    tee "$WORK/logs/reader-solo.log" | grep -v 'it/s]' | tail -5
  pack_model "$WORK/reader-solo" reader
  tar -czf "$out/runs.tgz" -C "$WORK" --exclude='*.safetensors' logs reader-solo
  exit 0
fi
echo "unknown stage $stage" >&2
exit 2
