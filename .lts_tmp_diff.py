import difflib, os, subprocess, sys, tempfile
from pathlib import Path
sys.path.insert(0, "tests/qgis")
from qgis.core import QgsApplication
app = QgsApplication([], False); app.initQgis()
import test_styles_qgis as t
a = t._project_layers(Path("layers/thanh_binh.qgz"))
fresh = Path(tempfile.mkdtemp()) / "t.qgz"
subprocess.run([sys.executable, "styles/make_project.py", str(fresh)], check=True, capture_output=True)
b = t._project_layers(fresh)
for k in a:
    if a[k] != b[k]:
        print("==", k, a[k][:3], b[k][:3])
        print("\n".join(list(difflib.unified_diff(a[k][3].splitlines(), b[k][3].splitlines(), lineterm="", n=1))[:40]))
os._exit(0)
