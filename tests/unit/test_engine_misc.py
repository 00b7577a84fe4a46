"""Engine plumbing: missing extension, debug rebuild, protocols, input checks."""
import math

import numpy as np
import pytest

from kmc.codes import DEBUG_MISMATCH, REACHED_TIME
from kmc.engine import check_status, compiled, lattice_gas_kernel
from kmc.errors import EngineConsistencyError, ExtensionMissingError
from kmc.graph import lattice_graph
from kmc.protocol import Constant, Pulsed


def test_missing_extension_is_a_clear_error():
    with pytest.raises(ExtensionMissingError) as info:
        compiled("_no_such_kernel")
    assert str(info.value) == (
        "the compiled kMC kernel kmc._no_such_kernel is missing (No module named "
        "'kmc._no_such_kernel'); install the package with `pip install .` (or run `make test`), "
        "which compiles ext/*.pyx")


def _gas(engine, seed=3):
    g = lattice_graph((6, 6), 1e-9, True)
    occ = np.zeros(g.n_sites, dtype=np.uint8)
    occ[::3] = 1
    return lattice_gas_kernel(engine, g.indptr, g.indices, np.linspace(1.0, 2.0, g.n_edges), occ,
                              np.random.PCG64(seed), g.edge_vectors)


@pytest.mark.parametrize("engine", ["cython", "reference"])
def test_debug_rebuild_passes_on_a_correct_tree(engine):
    k = _gas(engine)
    status, n = k.run(math.inf, 500, debug_every=1)
    assert (status, n) == (1, 500)
    assert k.check()


def test_debug_rebuild_detects_a_corrupted_tree():
    k = _gas("reference")
    k.tree.tree[k.P] += 1e-3  # corrupt one leaf behind the engine's back
    status, _ = k.run(math.inf, 10, debug_every=1)
    assert status == DEBUG_MISMATCH
    with pytest.raises(EngineConsistencyError):
        check_status(status, k)


@pytest.mark.parametrize("engine", ["cython", "reference"])
def test_clock_lands_exactly_on_t_stop(engine):
    k = _gas(engine)
    status, _ = k.run(1.25, 10**9)
    assert status == REACHED_TIME and k.time == 1.25


@pytest.mark.parametrize("engine", ["cython", "reference"])
def test_no_particles_jumps_to_t_stop(engine):
    g = lattice_graph((4, 4), 1e-9, True)
    k = lattice_gas_kernel(engine, g.indptr, g.indices, np.ones(g.n_edges),
                           np.zeros(g.n_sites, np.uint8), np.random.PCG64(0))
    assert k.run(7.0, 10) == (REACHED_TIME, 0) and k.time == 7.0 and k.total_rate == 0.0


def test_kernel_rejects_bad_rates():
    g = lattice_graph((4, 4), 1e-9, True)
    occ = np.ones(g.n_sites, np.uint8)
    with pytest.raises(ValueError, match="edge rates must be finite and >= 0"):
        lattice_gas_kernel("cython", g.indptr, g.indices, -np.ones(g.n_edges), occ,
                           np.random.PCG64(0))


def test_pulsed_protocol_changes():
    p = Pulsed(amplitude=5.0, period=2.0, duty=0.25)
    assert [p(t) for t in (0.0, 0.49, 0.5, 1.9, 2.0, 2.4)] == [5.0, 5.0, 0.0, 0.0, 5.0, 5.0]
    assert [p.next_change(t) for t in (0.0, 0.5, 1.0, 2.0, 2.5)] == [0.5, 2.0, 2.0, 2.5, 4.0]
    assert Constant(3.0).next_change(1.0) == math.inf


def test_package_without_compiled_kernels_imports_and_explains(tmp_path):
    """A source tree that was never built: ``import kmc`` works, the engine says what to do."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "kmc"
    shutil.copytree(src, tmp_path / "kmc", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    code = ("import kmc, kmc.engine as e\n"
            "assert kmc.__file__.startswith(%r)\n"
            "try:\n    e.lattice_gas_kernel('cython', [0], [], [], [], None)\n"
            "except e.ExtensionMissingError as x:\n    print(x)\n") % str(tmp_path)
    import numpy
    site = str(Path(numpy.__file__).parents[1])  # dependencies only: -S skips the editable hook
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": f"{tmp_path}:{site}", "PATH": ""}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ("the compiled kMC kernel kmc._lattice_gas is missing (No module named "
                           "'kmc._lattice_gas'); install the package with `pip install .` (or run "
                           "`make test`), which compiles ext/*.pyx\n")


@pytest.mark.parametrize("indptr,indices,message", [
    ([0, 1, 1, 2], [1, 0], "the graph is not symmetric: every edge i -> j needs its reverse j -> i"),
    ([0, 1, 2], [5, 0], "neighbour indices must lie in 0..1"),
    ([0, 1, 2], [0, 1], "the graph has self-loops"),
    ([0, 2, 1], [1, 0], "indptr/indices do not form a CSR graph"),
])
@pytest.mark.parametrize("engine", ["cython", "reference"])
def test_malformed_graphs_are_rejected(engine, indptr, indices, message):
    n = len(indptr) - 1
    with pytest.raises(ValueError) as info:
        lattice_gas_kernel(engine, indptr, indices, np.ones(len(indices)),
                           np.ones(n, np.uint8), np.random.PCG64(0))
    assert str(info.value) == message


@pytest.mark.parametrize("engine", ["cython", "reference"])
def test_clock_never_runs_backwards(engine):
    k = _gas(engine)
    k.run(10.0, 10**9)
    with pytest.raises(ValueError) as info:
        k.run(5.0, 10)
    assert str(info.value) == "t_stop = 5.0 s lies before the clock (10.0 s)"


def test_compiled_codes_equal_the_python_codes():
    """ext/_codes.pxd, as compiled into the kernels, defines exactly the codes of kmc.codes."""
    import kmc.codes as codes

    python = {k: v for k, v in vars(codes).items() if k.isupper() and type(v) is int}
    assert compiled("_plating").CODES == python
    assert codes.N_CHANNEL_KINDS == len(codes.CHANNELS)


@pytest.mark.parametrize("module,loaded", [
    ("kmc.codes", "kmc kmc.codes"),
    ("kmc.reference", "kmc kmc.codes kmc.reference"),
    ("kmc._plating", "kmc kmc._plating kmc.codes"),
    ("kmc._lattice_gas", "kmc kmc._lattice_gas kmc.codes"),
    ("kmc._clusters", "kmc kmc._clusters kmc.codes"),
])
def test_codes_twins_and_kernels_do_not_import_the_engine(module, loaded):
    """The kernels and their twins import only kmc.codes (no cycle through kmc.engine).

    The package is stubbed so that what ``kmc/__init__.py`` may import does not count.
    """
    import subprocess
    import sys
    from pathlib import Path

    import kmc

    code = ("import importlib, sys, types\n"
            "pkg = types.ModuleType('kmc')\n"
            f"pkg.__path__ = [{str(Path(kmc.__file__).parent)!r}]\n"
            "sys.modules['kmc'] = pkg\n"
            f"importlib.import_module({module!r})\n"
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'kmc')))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == loaded + "\n"


def test_package_modules_have_no_import_time_cycles():
    """No cycle among the module-level imports of kmc (imports inside functions and
    ``if TYPE_CHECKING:`` blocks are not followed)."""
    import ast
    from pathlib import Path

    import kmc

    root = Path(kmc.__file__).parent
    files = {".".join(p.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__"): p
             for p in root.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in files]
                deps.update(subs if len(subs) == len(node.names) else [base, *subs])
        graph[name] = sorted(d for d in deps if d in files and d != name)

    cycles, done = [], set()

    def visit(name, path):
        if name in path:
            cycles.append(" -> ".join(path[path.index(name):] + [name]))
            return
        if name in done:
            return
        for dep in graph[name]:
            visit(dep, path + [name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert cycles == []
