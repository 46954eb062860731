"""Build hook: bundle the widget's front end (js/ -> trellis_jupyter/static) into every wheel.

A wheel built from a clean clone runs ``scripts/build-js.sh`` (npm + esbuild); a wheel built where
the bundle already exists and npm is missing (an sdist unpacked without Node.js) ships the bundle
as it is. The installed package never needs Node.js.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class WidgetBundleHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        bundle = root / "trellis_jupyter" / "static" / "widget.js"
        script = root / "scripts" / "build-js.sh"
        if script.exists() and shutil.which("npm"):
            subprocess.run(["bash", str(script)], check=True, cwd=root)
        elif not bundle.exists():
            raise RuntimeError(
                "The widget bundle trellis_jupyter/static/widget.js is missing and npm was not found: "
                "install Node.js 20 and npm, then build again."
            )
        build_data["artifacts"].append("trellis_jupyter/static/")
