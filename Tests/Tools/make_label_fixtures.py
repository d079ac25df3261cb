#!/usr/bin/env python3
"""Dumps cityscapesScripts' label table (pip package `cityscapesscripts`) to
JSON, so segscope's table is tested against the official one.
Re-run: python3 Tests/Tools/make_label_fixtures.py
"""
import json
import os

from cityscapesscripts.helpers.labels import labels

out = os.path.join(os.path.dirname(__file__), "..", "SegLabelsTests", "Fixtures", "cityscapes_labels.json")
rows = [{"name": l.name, "id": l.id, "trainId": l.trainId, "category": l.category, "categoryId": l.categoryId,
         "hasInstances": l.hasInstances, "ignoreInEval": l.ignoreInEval, "color": list(l.color)} for l in labels]
with open(out, "w") as f:
    json.dump(rows, f, indent=1)
