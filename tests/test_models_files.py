"""Model files: round trips through pgmpy's writers, shipped examples offline, bad files."""

from __future__ import annotations

import socket
import warnings

import numpy as np
import pytest
from pgmpy.factors.discrete import DiscreteFactor, TabularCPD
from pgmpy.models import DiscreteBayesianNetwork, DiscreteMarkovNetwork
from pgmpy.readwrite import BIFWriter, UAIWriter, XMLBIFWriter

from exactmd.errors import ModelError
from exactmd.models.files import EXAMPLES, example_path, load, load_example, read_model
from exactmd.models.pgmpy_models import from_pgmpy


def _bn():
    """A 3-variable network with named states, mixed alphabets and a zero."""
    bn = DiscreteBayesianNetwork([("A", "B"), ("A", "C"), ("B", "C")])
    sa, sb, sc = ["lo", "hi"], ["x", "y", "z"], ["no", "yes"]
    bn.add_cpds(
        TabularCPD("A", 2, [[0.25], [0.75]], state_names={"A": sa}),
        TabularCPD(
            "B", 3, [[0.2, 0.5], [0.3, 0.5], [0.5, 0.0]], ["A"], [2], state_names={"A": sa, "B": sb}
        ),
        TabularCPD(
            "C",
            2,
            [[0.1, 0.2, 0.3, 0.4, 0.5, 1.0], [0.9, 0.8, 0.7, 0.6, 0.5, 0.0]],
            ["A", "B"],
            [2, 3],
            state_names={"A": sa, "B": sb, "C": sc},
        ),
    )
    return bn


def _brute(bn):
    p = np.zeros((2, 3, 2))
    a, b, c = (bn.get_cpds(v).values for v in "ABC")
    for i in range(2):
        for j in range(3):
            for k in range(2):
                p[i, j, k] = a[i] * b[j, i] * c[k, i, j]
    return p


@pytest.mark.parametrize(
    ("suffix", "writer"), [(".bif", BIFWriter), (".xmlbif", XMLBIFWriter), (".xml", XMLBIFWriter)]
)
def test_named_formats_round_trip(tmp_path, suffix, writer):
    bn = _bn()
    path = tmp_path / f"net{suffix}"
    writer(bn).write(str(path))
    d = load(path)
    assert d.names == ("A", "B", "C")
    assert d.state_names == (("lo", "hi"), ("x", "y", "z"), ("no", "yes"))
    np.testing.assert_allclose(d.numpy(), _brute(bn), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(d.numpy(), from_pgmpy(bn).numpy(), rtol=1e-12, atol=1e-15)


UAI_BAYES = """c a spec-conforming BAYES file: P(X0) P(X1 | X0) P(X2 | X0, X1)
BAYES
3
2 3 2
3
1 0
2 0 1
3 0 1 2
2
0.25 0.75
6
0.2 0.3 0.5
0.5 0.5 0.0
12
0.1 0.9  0.2 0.8  0.3 0.7
0.4 0.6  0.5 0.5  1.0 0.0
"""


def _brute_uai():
    p0 = [0.25, 0.75]
    p1 = [[0.2, 0.3, 0.5], [0.5, 0.5, 0.0]]
    p2 = [[[0.1, 0.9], [0.2, 0.8], [0.3, 0.7]], [[0.4, 0.6], [0.5, 0.5], [1.0, 0.0]]]
    p = np.zeros((2, 3, 2))
    for a in range(2):
        for b in range(3):
            for c in range(2):
                p[a, b, c] = p0[a] * p1[a][b] * p2[a][b][c]
    return p


def test_uai_bayes_follows_the_spec(tmp_path, backend):
    path = tmp_path / "bn.uai"
    path.write_text(UAI_BAYES)
    d = load(path, backend=backend)
    assert d.backend.name == backend
    assert d.names == ("var_0", "var_1", "var_2")  # UAI files carry no names
    np.testing.assert_allclose(d.numpy(), _brute_uai(), rtol=1e-12, atol=1e-15)
    # the pgmpy object read_model returns holds the same law
    np.testing.assert_allclose(from_pgmpy(read_model(path)).numpy(), _brute_uai(), atol=1e-15)
    d = load(path, order=["var_2", "var_0", "var_1"])
    np.testing.assert_allclose(d.numpy(), _brute_uai().transpose(2, 0, 1), atol=1e-15)
    with pytest.raises(ModelError, match="order"):
        load(path, order=["var_2", "var_0"])


def test_uai_markov_round_trip_through_pgmpy_writer(tmp_path):
    mn = DiscreteMarkovNetwork([("A", "B"), ("B", "C")])
    f1 = DiscreteFactor(["A", "B"], [2, 3], [1, 2, 0, 4, 5, 6])
    f2 = DiscreteFactor(["B", "C"], [3, 4], [1, 0, 3, 4, 2, 2, 0, 1, 1, 1, 0, 7])
    mn.add_factors(f1, f2)
    UAIWriter(mn).write(str(tmp_path / "mn.uai"))
    ref = np.einsum("ab,bc->abc", f1.values, f2.values)
    ref /= ref.sum()
    # the writer numbers the variables in its own order: recover A, B, C by their alphabets
    shape = load(tmp_path / "mn.uai").shape
    order = [f"var_{shape.index(q)}" for q in (2, 3, 4)]
    d = load(tmp_path / "mn.uai", order=order)
    np.testing.assert_allclose(d.numpy(), ref, rtol=1e-12)
    mn2 = read_model(tmp_path / "mn.uai")
    np.testing.assert_allclose(from_pgmpy(mn2, order=order).numpy(), ref, rtol=1e-12)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("BAYES 1 2 1 1 0 2 0.5 0.6", "sum to 1"),
        ("BAYES 2 2 2 2 2 1 0 2 0 1 4 1 0 0 1 4 1 0 0 1", "cycle"),
        ("BAYES 2 2 2 1 1 0 2 0.5 0.5", "child"),
        ("MARKOV 2 2 2 1 2 0 1 3 1 1 1", "needs 4 entries"),
        ("MARKOV 2 2 2 1 2 0 5 4 1 1 1 1", "distinct indices"),
        ("MARKOV 2 2 2 1 2 0 1 4 1 1 1 -1", ">= 0"),
        ("MARKOV 2 2 2 1 2 0 1 4 1 1 1", "ends where"),
        ("MARKOV 1 2 1 1 0 2 1 1 7", "unexpected content"),
        ("NETWORK 1 2", "BAYES or MARKOV"),
        ("MARKOV 1 2 1 1 0 2 0 0", "partition function"),
    ],
)
def test_uai_malformed(tmp_path, text, match):
    path = tmp_path / "bad.uai"
    path.write_text(text)
    _one_line_error(path, match)


def test_order_on_load(tmp_path):
    bn = _bn()
    BIFWriter(bn).write(str(tmp_path / "n.bif"))
    d = load(tmp_path / "n.bif", order=["C", "A", "B"])
    assert d.names == ("C", "A", "B")
    np.testing.assert_allclose(d.numpy(), _brute(bn).transpose(2, 0, 1), atol=1e-15)


def test_npy_joint(tmp_path):
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(12)).reshape(2, 3, 2)
    p[0, 1, 1] = 0.0
    p /= p.sum()
    np.save(tmp_path / "p.npy", p)
    d = load(tmp_path / "p.npy")
    assert d.names == ("X0", "X1", "X2")
    np.testing.assert_array_equal(d.numpy(), p)
    np.save(tmp_path / "bad.npy", p * 2)
    with pytest.raises(ModelError, match=r"bad\.npy.*sum to 1"):
        load(tmp_path / "bad.npy")
    (tmp_path / "junk.npy").write_bytes(b"not an array at all")
    with pytest.raises(ModelError, match=r"junk\.npy"):
        load(tmp_path / "junk.npy")
    with pytest.raises(ModelError, match="order"):
        load(tmp_path / "p.npy", order=["X0"])


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket fails, so a download would raise."""

    def refuse(*args, **kwargs):
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_shipped_examples_load_offline(no_network):
    sizes = {
        "asia": (2,) * 8,
        "cancer": (2,) * 5,
        "earthquake": (2,) * 5,
        "survey": (3, 2, 2, 2, 2, 3),
        "sachs": (3,) * 11,
    }
    assert set(EXAMPLES) == set(sizes)
    for name, shape in sizes.items():
        d = load_example(name)
        assert d.shape == shape
        assert abs(float(d.numpy().sum()) - 1.0) < 1e-12
        assert example_path(name).is_file()


def _marg(d, var, state):
    i = d.names.index(var)
    p = d.numpy().sum(axis=tuple(a for a in range(d.n) if a != i))
    return float(p[d.state_names[i].index(state)])


def test_examples_match_their_published_tables():
    asia = load_example("asia")
    # P(lung) = 0.5*0.1 + 0.5*0.01; P(tub) = 0.01*0.05 + 0.99*0.01; either = lung OR tub
    lung, tub = 0.5 * 0.1 + 0.5 * 0.01, 0.01 * 0.05 + 0.99 * 0.01
    assert _marg(asia, "lung", "yes") == pytest.approx(lung, abs=1e-14)
    assert _marg(asia, "tub", "yes") == pytest.approx(tub, abs=1e-14)
    assert _marg(asia, "either", "yes") == pytest.approx(1 - (1 - lung) * (1 - tub), abs=1e-14)
    eq = load_example("earthquake")
    b, e = 0.01, 0.02
    alarm = b * e * 0.95 + (1 - b) * e * 0.29 + b * (1 - e) * 0.94 + (1 - b) * (1 - e) * 0.001
    assert _marg(eq, "Alarm", "True") == pytest.approx(alarm, abs=1e-14)
    assert _marg(eq, "JohnCalls", "True") == pytest.approx(alarm * 0.9 + (1 - alarm) * 0.05)
    cancer = load_example("cancer")
    pc = 0.9 * 0.3 * 0.03 + 0.1 * 0.3 * 0.05 + 0.9 * 0.7 * 0.001 + 0.1 * 0.7 * 0.02
    assert _marg(cancer, "Cancer", "True") == pytest.approx(pc, abs=1e-14)
    survey = load_example("survey")
    pe = sum(
        a * s * h
        for a, row in zip([0.3, 0.5, 0.2], [(0.75, 0.64), (0.72, 0.70), (0.88, 0.90)])
        for s, h in zip([0.6, 0.4], row)
    )
    assert _marg(survey, "E", "high") == pytest.approx(pe, abs=1e-14)
    sachs = load_example("sachs")
    assert sachs.state_names == (("LOW", "AVG", "HIGH"),) * 11
    # roots PKC and Plcg; PKA | PKC; PIP3 | Plcg (bnlearn's published sachs.bif)
    pkc, plcg = [0.42313152, 0.48163920, 0.09522928], [0.81213356, 0.08337962, 0.10448682]
    pka = [[0.3864255, 0.3794243, 0.2341501], [0.06039638, 0.92264651, 0.01695712]]
    pka.append([0.01577014, 0.95873839, 0.02549147])
    pip3 = [[0.2184310, 0.4473238, 0.3342453], [0.07796694, 0.21120158, 0.71083148]]
    pip3.append([0.4237055, 0.4396535, 0.1366411])
    for var, root, cond in (("PKA", pkc, pka), ("PIP3", plcg, pip3)):
        want = np.array(root) @ (np.array(cond) / np.sum(cond, axis=1, keepdims=True))
        got = [_marg(sachs, var, s) for s in ("LOW", "AVG", "HIGH")]
        np.testing.assert_allclose(got, want, atol=1e-12)
    assert _marg(sachs, "PKC", "HIGH") == pytest.approx(pkc[2] / sum(pkc), abs=1e-14)


def test_sachs_matches_variable_elimination():
    with warnings.catch_warnings():  # pgmpy.inference imports a deprecated estimators module
        warnings.simplefilter("ignore", FutureWarning)
        from pgmpy.inference import VariableElimination

    bn = read_model(example_path("sachs"))
    assert bn.number_of_nodes() == 11 and bn.number_of_edges() == 17
    for cpd in bn.get_cpds():  # the published columns sum to 1 within 1e-7; we renormalise
        cpd.normalize()
    d = load_example("sachs")
    p = d.numpy()
    ve = VariableElimination(bn)
    for i, var in enumerate(d.names):
        f = ve.query([var], show_progress=False)
        want = [f.get_value(**{var: s}) for s in d.state_names[i]]
        got = p.sum(axis=tuple(a for a in range(d.n) if a != i))
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    # a conditional across the network: P(Akt | Raf = HIGH, Plcg = LOW)
    f = ve.query(["Akt"], evidence={"Raf": "HIGH", "Plcg": "LOW"}, show_progress=False)
    ax = {v: d.names.index(v) for v in ("Akt", "Raf", "Plcg")}
    sub = np.moveaxis(p, [ax["Raf"], ax["Plcg"], ax["Akt"]], [0, 1, 2])[2, 0]
    got = sub.sum(axis=tuple(range(1, sub.ndim)))
    want = [f.get_value(Akt=s) for s in ("LOW", "AVG", "HIGH")]
    np.testing.assert_allclose(got / got.sum(), want, rtol=1e-10, atol=1e-14)


# -- bad files ----------------------------------------------------------------------------


def _one_line_error(path, match):
    with pytest.raises(ModelError, match=match) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_missing_and_unknown_files(tmp_path):
    _one_line_error(tmp_path / "nope.bif", "does not exist")
    (tmp_path / "model.txt").write_text("hello")
    _one_line_error(tmp_path / "model.txt", "cannot tell the format")
    _one_line_error(tmp_path, "not a file")
    with pytest.raises(ModelError, match="unknown example"):
        load_example("alarm")
    with pytest.raises(ModelError, match="must be a file path"):
        load(3)  # type: ignore[arg-type]


def test_malformed_files_give_one_line_errors(tmp_path):
    (tmp_path / "garbage.bif").write_text("garbage {{{ ")
    _one_line_error(tmp_path / "garbage.bif", "the file ends inside the block 'garbage'")
    (tmp_path / "words.bif").write_text("just some words")
    _one_line_error(tmp_path / "words.bif", "defines no variables")
    text = example_path("cancer").read_text()
    (tmp_path / "truncated.bif").write_text(text[: len(text) // 2])
    _one_line_error(tmp_path / "truncated.bif", "every variable needs a probability block")
    (tmp_path / "bad.xmlbif").write_text("<BIF><NETWORK>")
    _one_line_error(tmp_path / "bad.xmlbif", "must be well-formed XML; no element found")
    (tmp_path / "bad.uai").write_text("MARKOV\n3\n2 2\n")
    _one_line_error(tmp_path / "bad.uai", "could not parse .* as UAI: the file ends")
    (tmp_path / "near.bif").write_text(text.replace("table 0.9, 0.1;", "table 0.9, 0.105;"))
    _one_line_error(tmp_path / "near.bif", "CPD of Pollution must sum to 1")


def test_read_model_returns_the_pgmpy_object(tmp_path):
    bn = read_model(example_path("asia"))
    assert isinstance(bn, DiscreteBayesianNetwork)
    assert sorted(bn.get_parents("either")) == ["lung", "tub"]
    np.save(tmp_path / "p.npy", np.full(2, 0.5))
    with pytest.raises(ModelError, match="use load"):
        read_model(tmp_path / "p.npy")


def test_load_example_returns_fresh_copies_in_any_order_and_backend(backend):
    a = load_example("cancer")
    try:  # mutating one result must not touch the cached joint (tables may be read-only)
        a.table[...] = 0.0
    except ValueError:
        pass
    assert abs(float(load_example("cancer").numpy().sum()) - 1.0) < 1e-12
    b = load_example("cancer", order=["Xray", "Cancer", "Pollution", "Smoker", "Dyspnoea"])
    assert b.names == ("Xray", "Cancer", "Pollution", "Smoker", "Dyspnoea")
    assert b.state_names[0] == ("positive", "negative")
    ref = load_example("cancer").numpy().transpose(3, 2, 0, 1, 4)
    np.testing.assert_allclose(b.numpy(), ref, atol=1e-16)
    c = load_example("cancer", backend=backend)
    assert c.backend.name == backend
    np.testing.assert_allclose(c.numpy(), load_example("cancer").numpy(), atol=1e-16)
    with pytest.raises(ModelError, match="order"):
        load_example("cancer", order=["Xray"])


@pytest.mark.slow
def test_bif_grammar_is_built_once_and_reads_as_pgmpy():
    from pgmpy.readwrite import BIFReader

    from exactmd.models.files import _bif_reader

    reader = _bif_reader(BIFReader)
    assert issubclass(reader, BIFReader) and reader is _bif_reader(BIFReader)
    a, b = reader(path=str(example_path("asia"))), reader(path=str(example_path("sachs")))
    assert a.get_probability_grammar() is b.get_probability_grammar()
    assert a.get_variable_grammar() is b.get_variable_grammar()
    for name in EXAMPLES:
        path = str(example_path(name))
        ours, ref = read_model(path), BIFReader(path=path).get_model()
        assert list(ours.nodes()) == list(ref.nodes())
        assert set(ours.edges()) == set(ref.edges())
        for cpd in ref.get_cpds():
            mine = ours.get_cpds(cpd.variable)
            assert mine.variables == cpd.variables and mine.state_names == cpd.state_names
            np.testing.assert_array_equal(mine.values, cpd.values)


# -- malformed BIF / XMLBIF / UAI / .npy: ModelError naming the file, the rule and the value --

_XMLBIF = """<?xml version='1.0' encoding='utf-8'?>
<BIF VERSION="0.3"><NETWORK><NAME>n</NAME>
<VARIABLE TYPE="nature"><NAME>A</NAME><OUTCOME>lo</OUTCOME><OUTCOME>hi</OUTCOME></VARIABLE>
<VARIABLE TYPE="nature"><NAME>B</NAME><OUTCOME>x</OUTCOME><OUTCOME>y</OUTCOME></VARIABLE>
<DEFINITION><FOR>A</FOR><TABLE>0.25 0.75</TABLE></DEFINITION>
<DEFINITION><FOR>B</FOR><GIVEN>A</GIVEN><TABLE>0.5 0.5 0.1 0.9</TABLE></DEFINITION>
</NETWORK></BIF>"""

_BIF = """network n { }
variable A { type discrete [ 2 ] { lo, hi }; }
variable B { type discrete [ 2 ] { x, y }; }
probability ( A ) { table 0.25, 0.75; }
probability ( B | A ) { (lo) 0.5, 0.5; (hi) 0.1, 0.9; }
"""


def _xml_bad(old, new):
    assert old in _XMLBIF
    return _XMLBIF.replace(old, new)


def _bif_bad(old, new):
    assert old in _BIF
    return _BIF.replace(old, new)


_MALFORMED = [
    ("ok.xmlbif", _XMLBIF, None),
    ("ok.bif", _BIF, None),
    (
        "no_outcome.xmlbif",
        _xml_bad("<OUTCOME>lo</OUTCOME><OUTCOME>hi</OUTCOME>", ""),
        "variable A must have at least one state; received none",
    ),
    (
        "undeclared_for.xmlbif",
        _xml_bad("<FOR>B</FOR>", "<FOR>C</FOR>"),
        "<DEFINITION> of C names the variable 'C', which is not declared",
    ),
    (
        "undeclared_given.xmlbif",
        _xml_bad("<GIVEN>A</GIVEN>", "<GIVEN>Z</GIVEN>"),
        "names the variable 'Z', which is not declared",
    ),
    (
        "short.xmlbif",
        _xml_bad("0.5 0.5 0.1 0.9", "0.5 0.5 0.1"),
        r"table of B must hold \|B\| × \|A\| = 4 numbers; received 3",
    ),
    ("word.xmlbif", _xml_bad("0.25 0.75", "0.25 abc"), "must hold numbers; received 'abc'"),
    ("nan.xmlbif", _xml_bad("0.25 0.75", "nan 0.75"), "finite numbers >= 0; received 'nan'"),
    ("neg.xmlbif", _xml_bad("0.25 0.75", "-0.25 1.25"), ">= 0; received '-0.25'"),
    ("truncated.xmlbif", _XMLBIF[: len(_XMLBIF) // 2], "must be well-formed XML"),
    ("noname.xmlbif", _xml_bad("<NAME>B</NAME>", ""), "<VARIABLE> number 1 must have a non-empty"),
    ("nofor.xmlbif", _xml_bad("<FOR>B</FOR>", ""), "<DEFINITION> number 1 must have a non-empty"),
    ("nonet.xmlbif", "<BIF></BIF>", "must have a <NETWORK> inside <BIF>; received <BIF>"),
    ("notable.xmlbif", _xml_bad("<TABLE>0.25 0.75</TABLE>", ""), "of A must have a <TABLE>"),
    (
        "nodef.xmlbif",
        _xml_bad("<DEFINITION><FOR>A</FOR><TABLE>0.25 0.75</TABLE></DEFINITION>", ""),
        r"every variable needs a <DEFINITION>; none for \['A'\]",
    ),
    ("twice.xmlbif", _xml_bad("<NAME>B</NAME>", "<NAME>A</NAME>"), "A is declared twice"),
    ("empty.xmlbif", "", "received an empty file"),
    (
        "unknown.bif",
        _bif_bad("probability ( A )", "probability ( C )"),
        "probability block of C names the variable 'C', which is not declared",
    ),
    ("parent.bif", _bif_bad("( B | A )", "( B | Q )"), "names the variable 'Q'"),
    (
        "state.bif",
        _bif_bad("(hi) 0.1", "(mid) 0.1"),
        r"must name one state of each parent \(A in \['lo', 'hi'\]\); received \(mid\)",
    ),
    (
        "row.bif",
        _bif_bad("(hi) 0.1, 0.9;", ""),
        r"row for every parent configuration; none for \(hi\)",
    ),
    (
        "rowlen.bif",
        _bif_bad("(hi) 0.1, 0.9;", "(hi) 0.1;"),
        r"must hold \|B\| = 2 numbers; received 1",
    ),
    ("table.bif", _bif_bad("table 0.25, 0.75;", "table 0.25;"), "received 1"),
    ("word.bif", _bif_bad("table 0.25, 0.75;", "table 0.25, x;"), "numbers; received 'x'"),
    (
        "count.bif",
        _bif_bad("[ 2 ] { lo, hi }", "[ 3 ] { lo, hi }"),
        r"declares \[ 3 \] states but names 2",
    ),
    ("dup.bif", _bif_bad("variable B", "variable A"), "A is declared twice"),
    ("twice.bif", _BIF + "probability ( A ) { table 0.5, 0.5; }\n", "two probability blocks"),
    ("open.bif", _BIF[:-20], "the file ends inside the block"),
    ("empty.bif", "", "defines no variables"),
]


@pytest.mark.parametrize(("name", "text", "match"), _MALFORMED, ids=[m[0] for m in _MALFORMED])
def test_malformed_bif_and_xmlbif_name_the_file_rule_and_value(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    if match is None:  # the unbroken files load
        d = load(path)
        np.testing.assert_allclose(d.numpy(), [[0.125, 0.125], [0.075, 0.675]], atol=1e-15)
        return
    message = _one_line_error(path, match)
    assert "Error:" not in message  # no pgmpy AttributeError / KeyError text leaks


@pytest.mark.parametrize("suffix", [".bif", ".xmlbif", ".uai", ".npy"])
def test_binary_and_empty_files(tmp_path, suffix):
    path = tmp_path / f"bin{suffix}"
    path.write_bytes(bytes(range(256)) * 4)
    message = _one_line_error(path, "UTF-8 text|magic string" if suffix == ".npy" else "UTF-8")
    assert "codec" not in message
    empty = tmp_path / f"empty{suffix}"
    empty.write_bytes(b"")
    _one_line_error(empty, "empty file|no variables|file ends|EOF")


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.array(["0.5", "0.5"]), "real numbers .* received dtype <U3"),
        (np.array([0.5, 0.5], dtype=object), "dtype object .pickled objects are never loaded"),
        (np.array([0.5 + 0j, 0.5]), "dtype complex128"),
        (np.zeros(2, dtype=[("a", "f8")]), "real numbers"),
        (np.zeros((2, 0)), "every axis must have at least one value"),
        (np.array([np.nan, 1.0]), "finite"),
    ],
)
def test_bad_npy_files(tmp_path, array, match):
    path = tmp_path / "p.npy"
    np.save(path, array, allow_pickle=True)
    _one_line_error(path, match)


def test_file_shape_reads_no_joint(tmp_path):
    from exactmd.models.files import file_shape

    np.save(tmp_path / "p.npy", np.full((2, 3), 1 / 6))
    assert file_shape(tmp_path / "p.npy") == (2, 3)
    (tmp_path / "n.bif").write_text(_BIF)
    assert file_shape(tmp_path / "n.bif") == (2, 2)
    (tmp_path / "m.uai").write_text("MARKOV 2  2 3  1  2 0 1  6 1 1 1 1 1 1")
    assert file_shape(tmp_path / "m.uai") == (2, 3)
    assert file_shape(example_path("sachs")) == (3,) * 11
