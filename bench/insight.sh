#!/usr/bin/env bash
# Model insight (issue 14, docs/insight.md): reading a 1 GiB safetensors and a 1 GiB GGUF file (sparse files; target
# < 50 ms each), and scanning a ~500 MB PyTorch checkpoint (zip and legacy formats) and large plain pickles, against
# Python's own pickletools.genops over the same bytes (picklescan and modelscan are not installable here: no PyPI).
# Also: the read rate of the same files (dd, page cache warm) and `berth scan` of the folder as a process.
#
#   bench/insight.sh              RUNS=5 by default (medians)
#   BENCH_BIN=<dir> BERTH_BIN=<dir> bench/insight.sh    already built berth-bench / berth
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-5}
folder="$work/insight"
mkdir -p "$folder"
py=/usr/bin/python3
[ -n "${BERTH_BIN:-}" ] || build_berth
berth="${BERTH_BIN:-$bin}/berth"
bench_bin="${BENCH_BIN:-$work/bench-bin}"
if [ -z "${BENCH_BIN:-}" ]; then
  log "building berth-bench"
  dotnet build "$bench_root/Berth.Bench" -c Release -o "$bench_bin" -nologo -v quiet >/dev/null
fi

echo "machine: $(nproc) cores ($(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | xargs)), $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo) RAM; load $(cut -d' ' -f1-3 /proc/loadavg)"

if [ ! -f "$folder/checkpoint.pt" ]; then
  log "writing the checkpoints and pickles with PyTorch and numpy"
  "$py" - "$folder" <<'PY'
import os, pickle, sys
import numpy as np
import torch
out = sys.argv[1]
torch.manual_seed(0)
# 8 x 4096 x 4096 float32 = 512 MiB, as torch.save writes it (zip) and as its legacy format does.
state = {f"layers.{i}.weight": torch.randn(4096, 4096) for i in range(8)}
state.update({f"layers.{i}.bias": torch.zeros(4096) for i in range(8)})
torch.save(state, os.path.join(out, "checkpoint.pt"))
torch.save(state, os.path.join(out, "checkpoint_legacy.pt"), _use_new_zipfile_serialization=False)
# A plain pickle of numpy arrays (their bytes inline), 512 MiB.
with open(os.path.join(out, "arrays.pkl"), "wb") as f:
    pickle.dump({k: v.numpy() for k, v in state.items()}, f, protocol=4)
# An opcode-dense pickle: 8,000,000 small tuples (what a big pickled object graph looks like).
with open(os.path.join(out, "objects.pkl"), "wb") as f:
    pickle.dump([(i, i * 0.5) for i in range(8_000_000)], f, protocol=4)
PY
fi
ls -l "$folder"

log "read rate: dd of each file to /dev/null (page cache warm)"
for f in checkpoint.pt checkpoint_legacy.pt arrays.pkl objects.pkl; do
  cat "$folder/$f" >/dev/null
  s=$(for _ in $(seq "$RUNS"); do a=$(now); dd if="$folder/$f" of=/dev/null bs=1M status=none; elapsed "$a" "$(now)"; echo; done | median)
  echo "dd $f size=$(stat -c %s "$folder/$f") median_s=$s mb_per_s=$(mbps "$(stat -c %s "$folder/$f")" "$s")"
done

log "Python pickletools.genops over the same pickle bytes"
"$py" - "$folder" "$RUNS" <<'PY'
import io, os, pickletools, statistics, sys, time, zipfile
folder, runs = sys.argv[1], int(sys.argv[2])

def genops_zip(path):
    # What picklescan does for a PyTorch archive: every .pkl entry through genops.
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".pkl"):
                for _ in pickletools.genops(io.BytesIO(z.read(name))):
                    pass

def genops_stream(path, streams):
    with open(path, "rb") as f:
        for _ in range(streams):
            for _ in pickletools.genops(f):
                pass

cases = [("checkpoint.pt", lambda p: genops_zip(p)), ("checkpoint_legacy.pt", lambda p: genops_stream(p, 5)),
         ("arrays.pkl", lambda p: genops_stream(p, 1)), ("objects.pkl", lambda p: genops_stream(p, 1))]
for name, run in cases:
    path = os.path.join(folder, name)
    run(path)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run(path)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    size = os.path.getsize(path)
    print(f"genops {name} size={size} median_ms={median * 1000:.3f} mib_per_s_of_file={size / median / 1048576:.1f}")
PY

log "berth-bench insight (in process)"
"$bench_bin/berth-bench" insight --folder "$folder" --runs "$RUNS"

log "berth scan of the folder, as a process"
s=$(for _ in $(seq "$RUNS"); do a=$(now); "$berth" scan "$folder" --json >/dev/null || true; elapsed "$a" "$(now)"; echo; done | median)
echo "berth-scan folder=$(du -sh --apparent-size "$folder" | cut -f1) median_s=$s"
