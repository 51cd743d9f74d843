"""Screenshots of report.html in headless Chromium: laptop and phone widths, print styles, a PDF.

    python bench/report_screenshots.py REPORT_DIR [--out DIR]

For looking at the page before calling a change to it done; the test suite checks the
markup and never needs a browser. Needs `chromium` (or `chromium-browser`, `google-chrome`)
on PATH.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

SIZES = {"laptop": (1366, 2400), "phone": (390, 3600)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=Path)
    parser.add_argument("--out", type=Path, help="where to write the PNGs and the PDF (default: REPORT_DIR)")
    args = parser.parse_args()
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if browser is None:
        print("no Chromium on PATH", file=sys.stderr)
        return 2
    page = (args.report_dir / "report.html").resolve()
    out = (args.out or args.report_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"]
    for name, (width, height) in SIZES.items():
        target = out / f"report-{name}.png"
        subprocess.run([*common, f"--window-size={width},{height}", f"--screenshot={target}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
        print(target)
    # Chromium's command line cannot screenshot print media, so the print styles are applied
    # to a copy of the page and shot at A4 width (210 mm at 96 dpi).
    printed = out / "report-print-preview.html"
    printed.write_text(page.read_text(encoding="utf-8").replace("@media print{", "@media all{"), encoding="utf-8")
    target = out / "report-print.png"
    subprocess.run([*common, "--window-size=794,2400", f"--screenshot={target}", printed.as_uri()],
                   check=True, capture_output=True, timeout=120)
    print(target)
    pdf = out / "report-print.pdf"
    subprocess.run([*common, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri()], check=True, capture_output=True, timeout=120)
    print(pdf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
