#!/usr/bin/env python3
"""Plots a soak CSV (bench/soak/soak.py) to a PNG with gnuplot: per-door throughput, per-door
p99 (log scale), the daemon's RSS (VmRSS, RssAnon, RssFile) and its open fds with the machine's
load average, against time.

Needs gnuplot (gnuplot-nox, scripts/deps.sh bench; python3-matplotlib cannot be installed beside
libboost1.81-dev on Debian 12). Without it, says so and writes nothing.
Usage: plot.py SOAK.csv OUT.png [TITLE]
"""
import csv
import shutil
import subprocess
import sys


def plot(csv_path, png_path, doors=None, title="greyflux soak"):
    if shutil.which("gnuplot") is None:
        print("plot.py: gnuplot is not installed (apt-get install gnuplot-nox, scripts/deps.sh "
              f"bench); no PNG written, the figures are in {csv_path}", file=sys.stderr)
        return False
    with open(csv_path) as f:
        cols = next(csv.reader(f))
    if doors is None:
        doors = [c[:-4] for c in cols if c.endswith("_rps")]
    idx = {c: i + 1 for i, c in enumerate(cols)}

    def lines(suffix):
        return ", ".join(f"'{csv_path}' using ($1/60):{idx[f'{d}_{suffix}']} with lines lw 2 "
                         f"title '{d}'" for d in doors)

    title = title.replace("'", "")
    script = f"""
set terminal pngcairo size 1000,1200 font 'sans,10'
set output '{png_path}'
set datafile separator ','
set datafile missing ''
set key outside right top
set grid
set xrange [0:*]
set multiplot layout 4,1 title '{title}'
set ylabel 'requests/s (10-s windows)'
set logscale y
plot {lines('rps')}
set ylabel 'p99 ms from scheduled send'
plot {lines('p99_ms')}
unset logscale y
set ylabel 'MiB'
set yrange [0:*]
plot '{csv_path}' using ($1/60):($3/1024) with lines lw 2 title 'VmRSS', \\
     '' using ($1/60):($4/1024) with lines lw 2 title 'RssAnon', \\
     '' using ($1/60):($5/1024) with lines lw 2 title 'RssFile'
set ylabel 'open fds'
set y2label 'load average (1 min)'
set y2range [0:*]
set y2tics
set xlabel 'minutes'
plot '{csv_path}' using ($1/60):6 with lines lw 2 title 'open fds', \\
     '' using ($1/60):2 axes x1y2 with lines dt 3 lc 'grey40' title 'load avg'
unset multiplot
"""
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"gnuplot: {r.stderr}")
    print(f"plot.py: wrote {png_path}")
    return True


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    plot(sys.argv[1], sys.argv[2], title=sys.argv[3] if len(sys.argv) > 3 else "greyflux soak")
