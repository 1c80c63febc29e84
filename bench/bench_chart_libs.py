# ruff: noqa: E501 - the benchmark pages embed minified-style JavaScript
"""Compare charting libraries for the dashboard: file size and time to draw 16 charts.

    mkdir -p /tmp/libs && cd /tmp/libs && npm pack chart.js echarts && \
        for f in *.tgz; do tar xzf $f --one-top-level=${f%.tgz}; done
    .venv/bin/python bench/bench_chart_libs.py --chartjs /tmp/libs/chart.js-*/package/dist/chart.umd.min.js \
        --echarts /tmp/libs/echarts-*/package/dist/echarts.min.js --plotly path/to/plotly.min.js

Each library draws the same 16 charts (4 bars, 4 three-series lines, 4 doughnuts, 4
150-point scatters, animations off) in one page loaded from disk by headless Chromium;
the median of 5 loads is shown. The vendored Chart.js is the default for --chartjs.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the browser helper lives with the tests

from tests.browser import Browser  # noqa: E402

VENDORED = Path(__file__).resolve().parents[1] / "src/cartwheel/dashboard/static/chart.umd.min.js"
random.seed(1)
bars = [round(random.uniform(1e4, 9e4), 2) for _ in range(24)]
lines = [[round(random.uniform(1e4, 9e4), 2) for _ in range(24)] for _ in range(3)]
pie = [random.randint(1, 100) for _ in range(6)]
scat = [
    [round(random.uniform(5, 900), 2), round(random.uniform(-100, 5000), 2)] for _ in range(150)
]
labels = [f"M{i}" for i in range(24)]
DATA = json.dumps(dict(bars=bars, lines=lines, pie=pie, scat=scat, labels=labels))
CODE = {
    "chartjs": """
Chart.defaults.animation=false;
function mk(i){const c=document.createElement('canvas');const d=document.createElement('div');d.style='width:400px;height:250px;display:inline-block';d.appendChild(c);document.body.appendChild(d);return c;}
for(let k=0;k<4;k++){
new Chart(mk(),{type:'bar',data:{labels:D.labels,datasets:[{data:D.bars}]},options:{maintainAspectRatio:false}});
new Chart(mk(),{type:'line',data:{labels:D.labels,datasets:D.lines.map(l=>({data:l}))},options:{maintainAspectRatio:false}});
new Chart(mk(),{type:'doughnut',data:{labels:['a','b','c','d','e','f'],datasets:[{data:D.pie}]},options:{maintainAspectRatio:false}});
new Chart(mk(),{type:'scatter',data:{datasets:[{data:D.scat.map(p=>({x:p[0],y:p[1]}))}]},options:{maintainAspectRatio:false}});
}""",
    "echarts": """
function mk(){const d=document.createElement('div');d.style='width:400px;height:250px;display:inline-block';document.body.appendChild(d);return echarts.init(d,null,{renderer:'canvas'});}
for(let k=0;k<4;k++){
mk().setOption({animation:false,xAxis:{data:D.labels},yAxis:{},series:[{type:'bar',data:D.bars}]});
mk().setOption({animation:false,xAxis:{data:D.labels},yAxis:{},series:D.lines.map(l=>({type:'line',data:l}))});
mk().setOption({animation:false,series:[{type:'pie',radius:['40%','70%'],data:D.pie.map((v,i)=>({value:v,name:'abcdef'[i]}))}]});
mk().setOption({animation:false,xAxis:{},yAxis:{},series:[{type:'scatter',data:D.scat}]});
}""",
    "plotly": """
function mk(){const d=document.createElement('div');d.style='width:400px;height:250px;display:inline-block';document.body.appendChild(d);return d;}
const L={margin:{t:10,l:40,r:10,b:30},width:400,height:250};
for(let k=0;k<4;k++){
Plotly.newPlot(mk(),[{type:'bar',x:D.labels,y:D.bars}],L,{staticPlot:true});
Plotly.newPlot(mk(),D.lines.map(l=>({type:'scatter',mode:'lines',x:D.labels,y:l})),L,{staticPlot:true});
Plotly.newPlot(mk(),[{type:'pie',hole:0.4,values:D.pie}],L,{staticPlot:true});
Plotly.newPlot(mk(),[{type:'scatter',mode:'markers',x:D.scat.map(p=>p[0]),y:D.scat.map(p=>p[1])}],L,{staticPlot:true});
}""",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chartjs", type=Path, default=VENDORED)
    parser.add_argument("--echarts", type=Path)
    parser.add_argument("--plotly", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="cartwheel-chart-libs-"))
    print(f"{'library':<8} {'lib KB':>8} {'parse ms':>9} {'draw 16 ms':>11} {'load ms':>8}")
    with Browser() as browser:
        for name in ("chartjs", "echarts", "plotly"):
            path = getattr(args, name)
            if path is None:
                continue
            lib = path.read_text()
            page = out / f"{name}.html"
            page.write_text(
                "<!doctype html><html><head><meta charset=utf-8>"
                "<script>window.T0=performance.now()</script>"
                f"<script>{lib}</script><script>window.T1=performance.now()</script></head>"
                f"<body><script>const D={DATA};{CODE[name]};window.T2=performance.now();"
                "</script></body></html>"
            )
            runs = []
            for _ in range(args.repeat):
                browser.open("about:blank")
                browser.open(page.as_uri())
                runs.append(
                    browser.evaluate(
                        "[T1 - T0, T2 - T1, "
                        "performance.getEntriesByType('navigation')[0].loadEventEnd]"
                    )
                )
            parse, draw, load = (statistics.median(r[i] for r in runs) for i in range(3))
            print(
                f"{name:<8} {len(lib.encode()) / 1024:>8.0f} {parse:>9.1f} {draw:>11.1f} "
                f"{load:>8.1f}"
            )
        errors = browser.console_errors()
    if errors:
        print("console errors:", errors)


if __name__ == "__main__":
    main()
