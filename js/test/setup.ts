// jsdom has no canvas; Vega falls back to estimating text widths. Say so quietly instead of
// letting jsdom print "Not implemented" for every chart.
HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
