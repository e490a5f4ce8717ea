"""Splink (DuckDB backend) on one dataset, trained as its documentation recommends:
u by random sampling, m by EM over blocking rules, term-frequency adjustment on names.

Run in the benchmark environment (.venv-bench); prints scored pairs as JSON lines on stdout.
"""

from __future__ import annotations

import json
import sys

import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def main() -> None:
    spec = json.loads(sys.argv[1])
    frames = [
        pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        for path in spec["files"]
    ]
    frames = [f.rename(columns=lambda c: c.strip()) for f in frames]
    for frame in frames:
        frame["unique_id"] = frame[spec["id"]].str.strip()
        for column in frame.columns:
            frame[column] = frame[column].astype(str).str.strip().replace("", None)
    fields = spec["fields"]
    comparisons = []
    for key in ("first_name", "surname"):
        if key in fields:
            comparisons.append(
                cl.NameComparison(fields[key]).configure(term_frequency_adjustments=True)
            )
    if "dob" in fields:
        comparisons.append(cl.LevenshteinAtThresholds(fields["dob"], [1, 2]))
    for name in spec.get("exact", []):
        comparisons.append(cl.ExactMatch(name))
    for name in spec.get("levenshtein", []):
        comparisons.append(cl.LevenshteinAtThresholds(name, [1, 2]))
    if "email" in fields:
        comparisons.append(cl.EmailComparison(fields["email"]))
    blocking = [block_on(*cols) for cols in spec["blocking"]]
    settings = SettingsCreator(
        link_type="link_only" if len(frames) == 2 else "dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(frames if len(frames) == 2 else frames[0], settings, db_api=DuckDBAPI())
    linker.training.estimate_probability_two_random_records_match(blocking, recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for cols in spec["training"]:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*cols))
    predictions = linker.inference.predict(threshold_match_probability=0.01).as_pandas_dataframe()
    for row in predictions.itertuples():
        print(
            json.dumps([str(row.unique_id_l), str(row.unique_id_r), float(row.match_probability)])
        )


if __name__ == "__main__":
    main()
