"""Comparing systems trained with several seeds, per benchmark and on the mean over benchmarks,
from hand-built reports whose per-document counts make every score computable by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from biomedner.cli.main import app
from biomedner.errors import FormatError, InputError
from biomedner.evaluation import EvalReport, compare_reports, compare_seeded
from biomedner.evaluation.markdown import comparison_markdown, seeded_comparison_markdown
from biomedner.evaluation.significance import (
    approximate_randomization,
    mean_approximate_randomization,
    mean_paired_bootstrap,
    paired_bootstrap,
)

runner = CliRunner()
FAST = {"n_iterations": 200, "n_resamples": 200}


def _f1(counts: list[list[int]]) -> float:
    tp, fp, fn = np.asarray(counts).sum(0)
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def entry(counts: list[list[int]]) -> dict:
    """A report's benchmark entry with the same counts under every matching."""
    ids = [f"d{i}" for i in range(len(counts))]
    metrics = {m: {"micro": {"f1": _f1(counts)}} for m in ("strict", "relaxed", "boundary")}
    return {
        "split": "test",
        "threshold": 0.5,
        "mode": "flat",
        "data_hash": "h1",
        "metrics": metrics,
        "per_document": {"ids": ids, "strict": counts, "relaxed": counts, "boundary": counts},
    }


def report(model_id: str, **benchmarks: list[list[int]]) -> EvalReport:
    return EvalReport(
        model={"id": model_id},
        config={"split": "test"},
        benchmarks={name: entry(c) for name, c in benchmarks.items()},
    )


# two benchmarks small enough to enumerate every swap and every resample by hand
B1_A = [[2, 0, 0], [0, 0, 2]]  # F1 2/3
B1_B = [[1, 1, 1], [0, 0, 2]]  # F1 1/3
B2_A = [[1, 0, 0]]  # F1 1
B2_B = [[0, 1, 1]]  # F1 0


def test_mean_over_benchmarks_on_a_hand_computed_case() -> None:
    pairs = [(np.array(B1_A), np.array(B1_B)), (np.array(B2_A), np.array(B2_B))]
    ar = mean_approximate_randomization(pairs, n_iterations=4000, seed=1)
    # mean of (2/3 - 1/3) and (1 - 0)
    assert ar["difference"] == pytest.approx(2 / 3)
    # Swapping b1's first document gives that benchmark -1/3, swapping b2's gives -1 (b1's second
    # document is the same in A and B). The mean is +-2/3 only when both swaps agree: p = 1/2.
    # (Swapping the benchmarks together instead of independently would give p = 1.)
    assert ar["p_value"] == pytest.approx(0.5, abs=0.03)
    boot = mean_paired_bootstrap(pairs, n_resamples=400, seed=1)
    # b2 always resamples its one document (+1); b1 resamples {d0,d0} -> +1/2, {d0,d1} -> +1/3,
    # {d1,d1} -> 0, with probabilities 1/4, 1/2, 1/4: the mean is 3/4, 2/3 or 1/2
    assert boot["ci95"] == pytest.approx([0.5, 0.75])
    assert boot["difference"] == pytest.approx(2 / 3)

    cmp = compare_reports(report("a", b1=B1_A, b2=B2_A), report("b", b1=B1_B, b2=B2_B), **FAST)
    mean = cmp["mean"]
    assert mean["benchmarks"] == ["b1", "b2"] and mean["left_out"] == {}
    assert mean["strict"]["f1_a"] == pytest.approx((2 / 3 + 1) / 2)
    assert mean["strict"]["f1_b"] == pytest.approx((1 / 3 + 0) / 2)
    assert mean["strict"]["difference"] == pytest.approx(2 / 3)
    assert mean["strict"]["paired_bootstrap"]["ci95"] == pytest.approx([0.5, 0.75])


@pytest.mark.parametrize("shape", [(1,), (7,), (300,)])
def test_the_mean_over_one_benchmark_is_that_benchmarks_test(shape: tuple[int]) -> None:
    # same statistic, same random draws: the mean tests reduce to the per-benchmark ones
    rng = np.random.default_rng(shape[0])
    a, b = rng.integers(0, 4, size=(*shape, 3)), rng.integers(0, 4, size=(*shape, 3))
    assert mean_approximate_randomization([(a, b)], n_iterations=300, seed=5) == (
        approximate_randomization(a, b, n_iterations=300, seed=5)
    )
    assert mean_paired_bootstrap([(a, b)], n_resamples=300, seed=5) == (
        paired_bootstrap(a, b, n_resamples=300, seed=5)
    )


def test_pooled_counts_are_the_sum_over_seeds() -> None:
    a_seeds = [report("a1", b1=[[2, 0, 0], [0, 0, 2]]), report("a2", b1=[[1, 0, 1], [1, 1, 1]])]
    b_seeds = [report("b1", b1=[[1, 1, 1], [0, 0, 2]]), report("b2", b1=[[0, 0, 2], [0, 0, 2]])]
    cmp = compare_seeded(a_seeds, b_seeds, matchings=("strict",), **FAST)
    c = cmp["benchmarks"]["b1"]["strict"]
    assert c["pooled_totals_a"] == [4, 1, 4] and c["pooled_totals_b"] == [1, 1, 7]
    assert c["f1_a_pooled"] == pytest.approx(8 / 13)
    assert c["f1_b_pooled"] == pytest.approx(2 / 10)
    assert c["difference"] == pytest.approx(8 / 13 - 2 / 10)
    # each seed's own F1, then mean and sample sd over seeds
    assert c["f1_a_seeds"] == pytest.approx([2 / 3, 4 / 7])
    assert c["f1_a"]["mean"] == pytest.approx((2 / 3 + 4 / 7) / 2)
    assert c["f1_a"]["sd"] == pytest.approx(abs(2 / 3 - 4 / 7) / np.sqrt(2))
    assert c["f1_b_seeds"] == pytest.approx([1 / 3, 0.0])
    # the tests ran on the pooled counts: the same as testing the summed arrays directly
    summed_a = np.array([[3, 0, 1], [1, 1, 3]])
    summed_b = np.array([[1, 1, 3], [0, 0, 4]])
    direct = compare_reports(
        EvalReport({"id": "A"}, {}, {"b1": entry(summed_a.tolist())}),
        EvalReport({"id": "B"}, {}, {"b1": entry(summed_b.tolist())}),
        matchings=("strict",),
        **FAST,
    )["benchmarks"]["b1"]["strict"]
    assert c["approximate_randomization"] == direct["approximate_randomization"]
    assert c["paired_bootstrap"] == direct["paired_bootstrap"]
    assert cmp["tests_on"] == "summed counts"
    # the mean row's seed spread is each seed's mean over benchmarks (one benchmark here)
    assert cmp["mean"]["strict"]["f1_a_seeds"] == pytest.approx([2 / 3, 4 / 7])
    assert cmp["mean"]["strict"]["f1_a_pooled"] == pytest.approx(8 / 13)


def test_identical_systems_differ_by_zero_with_p_one() -> None:
    seeds = [report(f"s{i}", b1=B1_A, b2=[[i, 1, 0], [2, 0, 1]]) for i in range(3)]
    cmp = compare_seeded(seeds, seeds, **FAST)
    for block in (*cmp["benchmarks"].values(), cmp["mean"]):
        for m in ("strict", "relaxed", "boundary"):
            assert block[m]["difference"] == 0.0
            assert block[m]["approximate_randomization"]["p_value"] == 1.0
            assert block[m]["paired_bootstrap"]["p_value"] == 1.0
            assert block[m]["paired_bootstrap"]["ci95"] == [0.0, 0.0]


def test_a_clearly_better_system_gets_a_small_p_value() -> None:
    rng = np.random.default_rng(3)

    def seeds(tp: int, err: int, name: str) -> list[EvalReport]:
        out = []
        for s in range(3):
            docs = [[tp + int(rng.integers(0, 2)), err, err] for _ in range(40)]
            out.append(report(f"{name}{s}", b1=docs, b2=docs[:25]))
        return out

    cmp = compare_seeded(seeds(4, 0, "good"), seeds(2, 2, "bad"), **FAST)
    for block in (cmp["benchmarks"]["b1"], cmp["benchmarks"]["b2"], cmp["mean"]):
        assert block["strict"]["difference"] > 0.3
        assert block["strict"]["approximate_randomization"]["p_value"] < 0.01
        assert block["strict"]["paired_bootstrap"]["p_value"] < 0.01
        assert block["strict"]["paired_bootstrap"]["ci95"][0] > 0.2


def test_benchmarks_missing_from_a_report_are_left_out_and_named() -> None:
    a = [report("a1", b1=B1_A, b2=B2_A), report("a2", b1=B1_A)]
    b = [report("b1", b1=B1_B, b2=B2_B, b3=B2_B), report("b2", b1=B1_B, b2=B2_B, b3=B2_B)]
    cmp = compare_seeded(a, b, **FAST)
    assert cmp["benchmarks"]["b2"] == {"skipped": "not in A2 (a2)"}
    assert cmp["benchmarks"]["b3"] == {"skipped": "not in A1 (a1), A2 (a2)"}
    assert cmp["mean"]["benchmarks"] == ["b1"]
    assert cmp["mean"]["strict"]["difference"] == pytest.approx(1 / 3)
    md = seeded_comparison_markdown(cmp)
    assert "Left out of the mean: b2 (not in A2 (a2)); b3 (not in A1 (a1), A2 (a2))." in md
    assert "| b2 | - | - | - | - | skipped: not in A2 (a2) | |" in md
    assert "| **mean of 1** | 66.67 ± 0.00 | 33.33 ± 0.00 | +33.33 |" in md

    # a benchmark on other data in B than in A is left out too, also in the one-report case
    other = report("b", b1=B1_B, b2=B2_B)
    other.benchmarks["b2"]["data_hash"] = "h2"
    single = compare_reports(report("a", b1=B1_A, b2=B2_A), other, **FAST)
    assert single["mean"]["left_out"] == {"b2": "different data (split or data hash)"}
    assert single["mean"]["benchmarks"] == ["b1"]
    md = comparison_markdown(single)
    assert "Left out of the mean: b2 (different data (split or data hash))." in md


def test_different_seed_numbers_test_on_the_mean_counts() -> None:
    a = [report("a1", b1=B1_A), report("a2", b1=B1_A)]
    cmp = compare_seeded(a, [report("b1", b1=B1_A)], **FAST)
    c = cmp["benchmarks"]["b1"]["strict"]
    assert cmp["tests_on"] == "counts averaged over each side's seeds"
    assert c["pooled_totals_a"] == [4, 0, 4] and c["pooled_totals_b"] == [2, 0, 2]
    assert c["difference"] == 0.0 and c["approximate_randomization"]["p_value"] == 1.0
    assert c["f1_b"] == {"mean": pytest.approx(2 / 3), "sd": None}
    assert "| b1 | 66.67 ± 0.00 | 66.67 | +0.00 |" in seeded_comparison_markdown(cmp)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("data_hash", "other", "has data hash other but A1 (a1) has h1"),
        ("threshold", 0.3, "has threshold 0.3 but A1 (a1) has 0.5"),
        ("ids", ["x0", "x1"], "has different documents (2 ids) from A1 (a1)"),
    ],
)
def test_seeds_of_one_side_must_share_documents_and_settings(field, value, message) -> None:
    second = report("a2", b1=B1_A)
    if field == "ids":
        second.benchmarks["b1"]["per_document"]["ids"] = value
    else:
        second.benchmarks["b1"][field] = value
    with pytest.raises(InputError) as err:
        compare_seeded([report("a1", b1=B1_A), second], [report("b", b1=B1_B)], **FAST)
    assert str(err.value).startswith("A2 (a2): benchmark 'b1' ")
    assert message in str(err.value)


def test_refuses_missing_repeated_and_countless_reports(tmp_path: Path) -> None:
    path = tmp_path / "a1.json"
    report("a1", b1=B1_A).to_json(path)
    with pytest.raises(InputError, match=r"a2\.json: no such report file \(side A\)"):
        compare_seeded([path, tmp_path / "a2.json"], [path], **FAST)
    with pytest.raises(InputError, match=r"a1\.json: given twice for side B"):
        compare_seeded([path], [path, path], **FAST)
    twice = report("a", b1=B1_A)
    with pytest.raises(InputError, match=r"A2 \(a\): the same report object is given twice"):
        compare_seeded([twice, twice], [path], **FAST)
    with pytest.raises(InputError, match="side A has no report"):
        compare_seeded([], [path], **FAST)
    old = report("old", b1=B1_A)
    del old.benchmarks["b1"]["per_document"]["relaxed"]
    with pytest.raises(FormatError, match="A1 \\(old\\): benchmark 'b1' has no per-document"):
        compare_seeded([old], [path], **FAST)


# ------------------------------------------------------------------ CLI
def _write(tmp_path: Path, name: str, rep: EvalReport) -> str:
    path = tmp_path / name
    rep.to_json(path)
    return str(path)


def test_cli_with_one_report_per_side_keeps_its_table(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.json", report("sys-a", b1=B1_A, b2=B2_A))
    b = _write(tmp_path, "b.json", report("sys-b", b1=B1_B, b2=B2_B))
    out = tmp_path / "cmp.json"
    res = runner.invoke(
        app, ["compare", a, b, "--iterations", "200", "--resamples", "200", "-o", out]
    )
    assert res.exit_code == 0, res.output
    # the per-benchmark table of the one-report case, exactly as it was before seeds
    old_table = comparison_markdown(
        {k: v for k, v in json.loads(out.read_text()).items() if k != "mean"}
    )
    assert res.stdout.startswith(old_table)
    assert res.stdout.splitlines()[0] == "# `sys-a` (A) vs `sys-b` (B)"
    assert "| b1 | strict | 66.67 | 33.33 | +33.33 |" in res.stdout
    assert "| b2 | relaxed | 100.00 | 0.00 | +100.00 | [+100.00, +100.00] |" in res.stdout
    mean = res.stdout[len(old_table) :]
    assert "## Mean over benchmarks" in mean and "(b1, b2)" in mean
    assert "| strict | 83.33 | 16.67 | +66.67 | [+50.00, +75.00] |" in mean
    cmp = json.loads(out.read_text())
    assert set(cmp) == {"a", "b", "benchmarks", "mean"}
    assert cmp["mean"]["relaxed"]["approximate_randomization"]["iterations"] == 200


def test_cli_with_seeds_per_side(tmp_path: Path) -> None:
    a = ",".join(_write(tmp_path, f"a{i}.json", report(f"a{i}", b1=B1_A, b2=B2_A)) for i in (1, 2))
    b = ",".join(_write(tmp_path, f"b{i}.json", report(f"b{i}", b1=B1_B, b2=B2_B)) for i in (1, 2))
    out = tmp_path / "cmp.json"
    res = runner.invoke(
        app, ["compare", a, b, "--iterations", "200", "--resamples", "200", "-o", out]
    )
    assert res.exit_code == 0, res.output
    text = res.stdout
    assert text.startswith("# A (2 seed(s)) vs B (2 seed(s))")
    assert f"- A: `a1` ({tmp_path / 'a1.json'}), `a2` ({tmp_path / 'a2.json'})" in text
    for m in ("strict", "relaxed", "boundary"):
        assert f"## {m}\n" in text
    assert "| b1 | 66.67 ± 0.00 | 33.33 ± 0.00 | +33.33 |" in text
    assert "| **mean of 2** | 83.33 ± 0.00 | 16.67 ± 0.00 | +66.67 | [+50.00, +75.00] |" in text
    assert "| mean | strict | 83.33, 83.33 | 16.67, 16.67 |" in text
    cmp = json.loads(out.read_text())
    assert cmp["n_seeds"] == {"a": 2, "b": 2}
    assert cmp["a"]["models"] == ["a1", "a2"]
    assert cmp["benchmarks"]["b2"]["strict"]["pooled_totals_a"] == [2, 0, 0]
    assert cmp["mean"]["strict"]["paired_bootstrap"]["ci95"] == pytest.approx([0.5, 0.75])


def _one_error_line(res) -> str:
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output
    return lines[0]


def test_cli_refusals_name_the_file(tmp_path: Path) -> None:
    a1 = _write(tmp_path, "a1.json", report("a1", b1=B1_A))
    bad = report("a2", b1=B1_A)
    bad.benchmarks["b1"]["data_hash"] = "other"
    a2 = _write(tmp_path, "a2.json", bad)
    b = _write(tmp_path, "b.json", report("b", b1=B1_B))
    previous = tmp_path / "cmp.json"
    previous.write_text("earlier\n", encoding="utf-8")

    line = _one_error_line(runner.invoke(app, ["compare", f"{a1},{a2}", b, "-o", previous]))
    assert f"{a2}: benchmark 'b1' has data hash other but {a1} has h1" in line
    assert previous.read_text() == "earlier\n"

    missing = tmp_path / "a3.json"
    line = _one_error_line(runner.invoke(app, ["compare", f"{a1},{missing}", b]))
    assert line == f"error: REPORT_A: {missing}: no such report file"
    line = _one_error_line(runner.invoke(app, ["compare", a1, f"{b},"]))
    assert "REPORT_B" in line and "empty entry" in line
    line = _one_error_line(runner.invoke(app, ["compare", f"{a1},{tmp_path}", b]))
    assert line == f"error: REPORT_A: {tmp_path} is a folder; give its report.json"
    line = _one_error_line(runner.invoke(app, ["compare", a1, f"{b},{b}"]))
    assert f"{b}: given twice for side B" in line
    line = _one_error_line(runner.invoke(app, ["compare", a1, b, "--iterations", "0"]))
    assert line.startswith("error: --iterations 0: give at least 1")
