#!/usr/bin/env bash
# pipever end to end: version a dataset, switch between versions, share it through a remote,
# and run a pipeline that reruns only what changed. Run with `make demo`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.com
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

cp -r "$here/project" "$work/project"
cd "$work/project"
git init -q -b main
step pv init
git add -A && git commit -qm "project and pipever"

echo; echo "== 1. Version a dataset"
mkdir -p data && python src/make_data.py 2000 1 data/raw.csv
step pv add data/raw.csv
step git commit -qm "dataset v1"
python src/make_data.py 3000 2 data/raw.csv
step pv status
step pv add data/raw.csv
step git commit -qm "dataset v2"
step pv diff HEAD~1 HEAD

echo; echo "== 2. Switch data with Git"
step git checkout -q HEAD~1
step pv checkout
echo "rows in v1: $(($(wc -l < data/raw.csv) - 1))"
step git checkout -q main
step pv checkout
echo "rows in v2: $(($(wc -l < data/raw.csv) - 1))"
step pv status

echo; echo "== 3. Share through a remote (a local folder here; s3://, ssh://, gs://... work the same)"
step pv remote add -d storage "$work/remote"
git commit -qam "add remote"
step pv push
step git clone -q "$work/project" "$work/clone"
cd "$work/clone"
step pv pull
cmp data/raw.csv "$work/project/data/raw.csv" && echo "clone has byte-identical data"
cd "$work/project"

echo; echo "== 4. A pipeline that reruns only what changed"
step pv dag
step pv repro
git add -A && git commit -qm "pipeline results"
step pv repro
sed -i 's/epochs: 60/epochs: 120/' params.yaml
step pv status
step pv repro
step pv params diff
step pv metrics diff
git add -A && git commit -qm "train longer"

echo; echo "== 5. Experiments: try params without touching your branch"
step pv exp run -S train.lr=0.3 -n lr-high
step pv exp run -S train.lr=0.03 -n lr-low
step pv exp show
step git status --short
step pv exp apply lr-high
step pv metrics show
echo; echo "Demo finished: everything above ran for real in $work"
