# SPDX-License-Identifier: GPL-2.0
# The Python "chameleon" function of the cold-start benchmark (HTML
# templating with python3-chameleon): compiles a page template at start,
# then for each request renders a table of generated rows and replies with
# a checksum of the HTML.
import hashlib
import json
import sys

from chameleon import PageTemplate

TEMPLATE = """\
<html>
  <head><title>${title}</title></head>
  <body>
    <h1>${title}</h1>
    <table>
      <tr><th tal:repeat="c columns">${c}</th></tr>
      <tr tal:repeat="row rows" class="${'odd' if repeat.row.odd else 'even'}">
        <td tal:repeat="cell row">${cell}</td>
      </tr>
    </table>
  </body>
</html>
"""


def main():
    template = PageTemplate(TEMPLATE)
    columns = ["c%d" % i for i in range(10)]
    rows = [["r%d-%s & %d" % (r, c, r * 31 + i) for i, c in enumerate(columns)]
            for r in range(100)]
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        html = template(title="Spice <bench>", columns=columns, rows=rows)
        checksum = hashlib.sha256((line + html).encode()).hexdigest()[:16]
        print(json.dumps({"reply": len(html), "checksum": checksum}), flush=True)


main()
