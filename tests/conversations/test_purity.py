"""The brain stays pure: no I/O libraries, no clock reads, no prose."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

BRAIN = Path(__file__).resolve().parents[2] / "conversations"
FORBIDDEN = {
    "telegram",
    "aiosqlite",
    "sqlite3",
    "jinja2",
    "aiosmtplib",
    "smtplib",
    "asyncio",
    "httpx",
    "aiohttp",
    "requests",
    "socket",
    "bot",
}


def test_conversations_imports_no_io_library() -> None:
    """No module in conversations/ imports an I/O library, directly."""
    offenders = []
    for path in BRAIN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_the_brain_loads_no_io_library() -> None:
    """Not even indirectly: a fresh interpreter importing the brain has none of them loaded."""
    code = (
        "import sys, conversations;"
        "conversations.load_knowledge();"
        "print(sorted({m.split('.')[0] for m in sys.modules} & %r))" % (FORBIDDEN - {"socket"})
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_conversations_never_reads_the_clock() -> None:
    """Time comes in as ``now``; no datetime.now(), utcnow(), today() or time.time()."""
    for path in BRAIN.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in ("datetime.now(", "utcnow(", "date.today(", "time.time(", "time.monotonic("):
            assert call not in text, f"{path.name} reads the clock via {call}"


def test_the_shell_uses_only_the_brains_public_surface() -> None:
    """bot/ and benchmarks/ import from ``conversations`` itself, and only names in its
    ``__all__``: the modules behind it can be reorganised without touching the shell."""
    import conversations

    root = BRAIN.parent
    for path in [*(root / "bot").glob("*.py"), *(root / "benchmarks").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("conversations"):
                assert node.module == "conversations", f"{path.name}: from {node.module} import …"
                for alias in node.names:
                    assert alias.name in conversations.__all__, f"{path.name}: {alias.name}"
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("conversations")]
                assert not names, f"{path.name}: import {names}"


def test_no_move_bypasses_the_transition_table() -> None:
    """Only ``machine._moved`` sets a case's step, only ``machine._apply`` calls it, with the
    target it looked up in TABLE or GLOBAL: no handler, hook or command writes a step."""
    for path in BRAIN.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
                if "step" in keys:
                    assert path.name == "machine.py", f"{path.name} sets a step"
    source = (BRAIN / "machine.py").read_text(encoding="utf-8")
    calls = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_moved"
    ]
    assert calls, "the table is applied through _moved"
    for call in calls:
        assert ast.unparse(call.args[1]) == "target"
    assert source.count('update={"step"') == 1  # inside _moved
    # ... and only ``_apply`` calls it, with the target it looked up in TABLE or GLOBAL
    callers = {
        function.name
        for function in ast.walk(ast.parse(source))
        if isinstance(function, ast.FunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_moved"
    }
    assert callers == {"_apply"}
