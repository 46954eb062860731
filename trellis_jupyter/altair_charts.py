"""The Altair side of trellis charts: :class:`TrellisChart`, imported only when a user asks for an
Altair object (``answer.chart``, ``--chart``, ``Chart.to_altair()``): importing Altair takes seconds
in a fresh kernel, and the display path of the magic and the widget never needs it."""

from __future__ import annotations

from typing import Any

import altair as alt

from .charts import chart_mimebundle, use_offline_bundle

__all__ = ["TrellisChart"]


class TrellisChart(alt.Chart):
    """An ``altair.Chart`` that displays offline (see :mod:`trellis_jupyter.charts`); otherwise
    identical."""

    def _repr_mimebundle_(self, *args: Any, **kwargs: Any) -> Any:
        if not use_offline_bundle():
            return super()._repr_mimebundle_(*args, **kwargs)
        return chart_mimebundle(self)
