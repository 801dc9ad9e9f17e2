// The dashboard's charts, drawn from the numbers the page carries in a JSON script element
// (no inline script, so a strict Content Security Policy can follow). The page's tables
// hold the same numbers for everyone; the charts are hidden from assistive technology.
// Chart.js comes from npm as a UMD file, which sets globalThis.Chart when imported.
import "../chart.js/chart.umd.min.js";

const { Chart } = globalThis;
// GOV.UK Design System colours, in an order that keeps neighbours distinct.
const COLOURS = ["#1d70b8", "#f47738", "#00703c", "#4c2c92", "#d4351c", "#28a197",
  "#912b88", "#85994b", "#505a5f", "#b58840"];
const pounds = new Intl.NumberFormat("en-GB", {
  style: "currency", currency: "GBP", maximumFractionDigits: 0,
});
const weekLabel = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short" });

// Amounts arrive as decimal strings (pounds and pence); missing ones as null.
const numbers = (values) => values.map((value) => (value === null ? null : Number(value)));

function moneyOptions() {
  return {
    responsive: true,
    animation: false,
    scales: { y: { beginAtZero: true, ticks: { callback: (value) => pounds.format(value) } } },
    plugins: {
      tooltip: {
        callbacks: {
          label: (item) => `${item.dataset.label}: ${pounds.format(item.parsed.y)}`,
        },
      },
    },
  };
}

function drawPositions(canvas, positions) {
  const datasets = [];
  if (positions.budget) {
    datasets.push({ label: "Budget", data: numbers(positions.budget), backgroundColor: "#b1b4b6" });
  }
  datasets.push(
    { label: "Spend to date", data: numbers(positions.actual), backgroundColor: COLOURS[0] },
    { label: "Projected outturn", data: numbers(positions.outturn), backgroundColor: COLOURS[1] },
  );
  return new Chart(canvas, {
    type: "bar",
    data: { labels: positions.labels, datasets },
    options: moneyOptions(),
  });
}

function drawTrend(canvas, trend) {
  const lines = Object.entries(trend.lines).map(([name, values], index) => ({
    label: name,
    data: numbers(values),
    borderColor: COLOURS[index % COLOURS.length],
    backgroundColor: COLOURS[index % COLOURS.length],
    borderWidth: 2,
    pointRadius: 0,
  }));
  lines.push(
    { label: "Total", data: numbers(trend.total), borderColor: "#0b0c0c",
      backgroundColor: "#0b0c0c", borderWidth: 3, pointRadius: 0 },
    { label: "Total budget", data: numbers(trend.budget), borderColor: "#0b0c0c",
      backgroundColor: "#0b0c0c", borderDash: [6, 4], borderWidth: 2, pointRadius: 0 },
  );
  const labels = trend.labels.map((day) => weekLabel.format(new Date(`${day}T00:00:00`)));
  return new Chart(canvas, {
    type: "line",
    data: { labels, datasets: lines },
    options: moneyOptions(),
  });
}

const source = document.getElementById("dashboard-chart-data");
if (Chart && source) {
  const data = JSON.parse(source.textContent);
  const positionsCanvas = document.getElementById("positions-chart");
  if (positionsCanvas && data.positions.labels.length) {
    drawPositions(positionsCanvas, data.positions);
  }
  const trendCanvas = document.getElementById("trend-chart");
  if (trendCanvas && data.trend.labels.length) {
    drawTrend(trendCanvas, data.trend);
  }
}
