/*
 * Holdfast live dashboard: draws the frames the server pushes over
 * Server-Sent Events (/admin/dashboard/stream) with uPlot.
 *
 * The server does all the arithmetic (rates, p99s, the state); this script
 * only keeps the last two minutes of frames and draws them. Statement texts
 * and plans come from the database's schema, so they are only ever inserted
 * as text, never as HTML.
 */
(function () {
  'use strict';

  var WINDOW = 120; // points kept: two minutes at one frame per second
  var MAX_ROUTES = 16; // route series per chart at most
  var PALETTE = [
    '#60a5fa',
    '#34d399',
    '#f472b6',
    '#a78bfa',
    '#fbbf24',
    '#22d3ee',
    '#fb923c',
    '#a3e635',
    '#e879f9',
    '#94a3b8',
    '#f87171',
    '#2dd4bf',
  ];
  var WARN = '#f59e0b';
  var CRIT = '#ef4444';

  var xs = [];
  var charts = [];
  var lastFrameAt = 0;

  // ---- chart definitions ------------------------------------------------------------------

  /** A series: its legend label, colour, how to read it from a frame, and uPlot options. */
  function line(label, stroke, read, options) {
    var s = { read: read, options: { label: label, stroke: stroke, width: 1.5, spanGaps: false } };
    for (var k in options) s.options[k] = options[k];
    return s;
  }
  /** A warning or critical line: dashed, thin. */
  function threshold(label, stroke, read) {
    return line(label, stroke, read, { dash: [6, 4], width: 1 });
  }
  /** y from 0 to a little above the highest point (thresholds included). */
  function fromZero(u, min, max) {
    return [0, max == null || !isFinite(max) ? 1 : Math.max(1, max * 1.1)];
  }
  var pct = function (v) {
    return v == null ? null : Math.round(v * 1000) / 10;
  };

  var SPECS = [
    // Route charts grow a series per route; `idle` is what a route with no request that second shows.
    {
      id: 'chart-rps',
      routes: function (r) {
        return r.rps;
      },
      idle: 0,
      series: [
        line(
          'all',
          '#e6e9ef',
          function (f) {
            return f.http.rps;
          },
          { width: 2 },
        ),
      ],
    },
    {
      id: 'chart-p99',
      routes: function (r) {
        return r.p99Ms;
      },
      idle: null,
      series: [
        line(
          'all',
          '#e6e9ef',
          function (f) {
            return f.http.p99Ms;
          },
          { width: 2 },
        ),
      ],
    },
    {
      id: 'chart-refusals',
      series: [
        line('5xx', CRIT, function (f) {
          return f.http.errorsPerS;
        }),
        line('429', WARN, function (f) {
          return f.http.limitedPerS;
        }),
        line('503', '#a78bfa', function (f) {
          return f.http.unavailablePerS;
        }),
      ],
    },
    {
      id: 'chart-pool',
      series: [
        line(
          'active',
          '#60a5fa',
          function (f) {
            return f.pool.active;
          },
          { width: 2 },
        ),
        line('idle', '#34d399', function (f) {
          return f.pool.idle;
        }),
        line('waiting', '#f472b6', function (f) {
          return f.pool.waiting;
        }),
        threshold('limit', WARN, function (f) {
          return f.pool.limit;
        }),
        threshold('max', CRIT, function (f) {
          return f.pool.max;
        }),
      ],
    },
    {
      id: 'chart-acquire',
      axes2: 'timeouts, shed /s',
      series: [
        line(
          'acquire p99 ms',
          '#60a5fa',
          function (f) {
            return f.pool.acquireP99Ms;
          },
          { width: 2 },
        ),
        line(
          'timeouts/s',
          CRIT,
          function (f) {
            return f.pool.timeoutsPerS;
          },
          { scale: 'y2' },
        ),
        line('queue delay ms', '#f472b6', function (f) {
          return f.pool.queueDelayMs;
        }),
        line(
          'shed/s',
          WARN,
          function (f) {
            return f.pool.shedPerS;
          },
          { scale: 'y2' },
        ),
      ],
    },
    {
      id: 'chart-cache',
      range: [0, 100],
      series: [
        line(
          'hit rate %',
          '#34d399',
          function (f) {
            return pct(f.cache.hitRate);
          },
          { width: 2 },
        ),
      ],
    },
    {
      id: 'chart-rss',
      series: [
        line(
          'rss',
          '#60a5fa',
          function (f) {
            return f.memory.rssMb;
          },
          { width: 2 },
        ),
        threshold('warning', WARN, function (f) {
          return f.memory.rssWarnMb;
        }),
        threshold('critical', CRIT, function (f) {
          return f.memory.rssCriticalMb;
        }),
      ],
    },
    {
      id: 'chart-heap',
      series: [
        line(
          'heap used',
          '#a78bfa',
          function (f) {
            return f.memory.heapUsedMb;
          },
          { width: 2 },
        ),
        threshold('warning', WARN, function (f) {
          return f.memory.heapWarnMb;
        }),
        threshold('critical', CRIT, function (f) {
          return f.memory.heapCriticalMb;
        }),
      ],
    },
    {
      id: 'chart-eld',
      series: [
        line(
          'delay p99',
          '#22d3ee',
          function (f) {
            return f.eventLoop.delayP99Ms;
          },
          { width: 2 },
        ),
        threshold('warning', WARN, function (f) {
          return f.eventLoop.delayWarnMs;
        }),
        threshold('critical', CRIT, function (f) {
          return f.eventLoop.delayMaxMs;
        }),
      ],
    },
    {
      id: 'chart-elu',
      range: [0, 100],
      series: [
        line(
          'utilisation %',
          '#fbbf24',
          function (f) {
            return pct(f.eventLoop.utilization);
          },
          { width: 2 },
        ),
      ],
    },
  ];

  function axis(extra) {
    var a = { stroke: '#9aa4b2', grid: { stroke: '#2a323e', width: 1 }, ticks: { stroke: '#2a323e', width: 1 } };
    for (var k in extra) a[k] = extra[k];
    return a;
  }

  function createChart(spec) {
    var el = document.querySelector('#' + spec.id + ' .plot');
    var series = [{}].concat(
      spec.series.map(function (s) {
        return s.options;
      }),
    );
    var scales = { x: { time: true }, y: { range: spec.range || fromZero } };
    var axes = [axis({}), axis({ size: 55 })];
    if (spec.axes2) {
      scales.y2 = { range: fromZero };
      axes.push(axis({ scale: 'y2', side: 1, size: 45, grid: { show: false } }));
    }
    var chart = {
      spec: spec,
      el: el,
      ys: spec.series.map(function () {
        return [];
      }),
      routeIndex: {},
      routeCount: 0,
    };
    chart.u = new uPlot(
      {
        width: Math.max(300, el.clientWidth),
        height: 220,
        series: series,
        scales: scales,
        axes: axes,
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
      },
      [xs].concat(chart.ys),
      el,
    );
    return chart;
  }

  /** A new route gets its own series, back-filled with gaps. */
  function routeColumn(chart, route) {
    var index = chart.routeIndex[route];
    if (index !== undefined) return index;
    if (chart.routeCount >= MAX_ROUTES) return undefined;
    index = chart.ys.length;
    chart.routeIndex[route] = index;
    chart.routeCount++;
    var column = [];
    for (var i = 0; i < xs.length - 1; i++) column.push(null);
    chart.ys.push(column);
    chart.u.addSeries({ label: route, stroke: PALETTE[(chart.routeCount - 1) % PALETTE.length], width: 1.25, spanGaps: false }, index + 1);
    return index;
  }

  // ---- data -------------------------------------------------------------------------------

  /** Appends one frame's values to every chart (without redrawing). */
  function append(frame) {
    // After a reconnect the history repeats frames already drawn; uPlot needs x to keep rising.
    if (xs.length > 0 && frame.t / 1000 <= xs[xs.length - 1]) return;
    xs.push(frame.t / 1000);
    charts.forEach(function (chart) {
      chart.spec.series.forEach(function (s, i) {
        var v = s.read(frame);
        chart.ys[i].push(v === undefined ? null : v);
      });
      if (chart.spec.routes) {
        var seen = {};
        (frame.http.routes || []).forEach(function (r) {
          var index = routeColumn(chart, r.route);
          if (index === undefined) return;
          chart.ys[index].push(chart.spec.routes(r));
          seen[index] = true;
        });
        for (var i = chart.spec.series.length; i < chart.ys.length; i++) if (!seen[i]) chart.ys[i].push(chart.spec.idle);
      }
    });
    if (xs.length > WINDOW) {
      xs.shift();
      charts.forEach(function (chart) {
        chart.ys.forEach(function (y) {
          y.shift();
        });
      });
    }
  }

  function redraw() {
    charts.forEach(function (chart) {
      chart.u.setData([xs].concat(chart.ys));
    });
  }

  // ---- banner, tiles and statements -------------------------------------------------------

  function fmt(v, digits) {
    if (v == null) return '–';
    return Number(v).toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 1 : digits });
  }

  function setStat(name, text) {
    var el = document.querySelector('[data-stat="' + name + '"]');
    if (el) el.textContent = text;
  }

  function showState(level, text, reasons) {
    document.getElementById('banner').setAttribute('data-level', level);
    document.getElementById('state-level').textContent = text;
    document.getElementById('state-reasons').textContent = reasons;
  }

  function render(frame) {
    lastFrameAt = Date.now();
    showState(frame.state.level, frame.state.level, frame.state.reasons.join(' · '));
    document.getElementById('updated').textContent = new Date(frame.t).toLocaleTimeString();
    document.getElementById('streams').textContent = String(frame.streams);
    setStat('rps', fmt(frame.http.rps));
    setStat('p99', frame.http.p99Ms == null ? '–' : fmt(frame.http.p99Ms, 2) + ' ms');
    setStat('total', fmt(frame.http.totalRequests, 0));
    setStat('refusals', fmt(frame.http.errorsPerS) + ' / ' + fmt(frame.http.limitedPerS) + ' / ' + fmt(frame.http.unavailablePerS));
    setStat('pool', frame.pool.active + ' / ' + frame.pool.limit + ' / ' + frame.pool.max);
    setStat('waiting', String(frame.pool.waiting));
    setStat('rss', fmt(frame.memory.rssMb, 0) + ' MB');
    setStat('eld', fmt(frame.eventLoop.delayP99Ms) + ' ms');
    // No lookup this second is not a 0 % hit rate.
    setStat(
      'cache',
      frame.cache.mode === 'bypass' ? 'bypassed' : frame.cache.hitRate == null ? 'idle' : fmt(frame.cache.hitRate * 100) + ' %',
    );
    renderStatements(frame.slowQueries || []);
  }

  var statementRows = {}; // id → { row, planRow, cells, expanded, plan }

  /** Updates the table in place, so an expanded plan stays open across frames. */
  function renderStatements(list) {
    var tbody = document.querySelector('#slow-queries tbody');
    document.getElementById('no-queries').hidden = list.length > 0;
    var keep = {};
    list.forEach(function (q) {
      keep[q.id] = true;
      var entry = statementRows[q.id] || (statementRows[q.id] = createStatementRow(q));
      entry.q = q;
      var c = entry.cells;
      c.sql.textContent = q.fingerprint;
      c.sql.title = q.fingerprint;
      c.calls.textContent = fmt(q.calls, 0);
      c.mean.textContent = fmt(q.meanMs, 2);
      c.p95.textContent = fmt(q.p95Ms, 2);
      c.max.textContent = fmt(q.maxMs, 2);
      c.total.textContent = fmt(q.totalMs, 0);
      c.slow.textContent = fmt(q.slowCalls, 0);
      c.traces.textContent = (q.slowestTraceIds || []).join(' ');
      c.plan.textContent = '';
      if (q.hasPlan) {
        var button = document.createElement('button');
        button.className = 'plan';
        button.type = 'button';
        button.textContent = entry.expanded ? 'hide' : 'show';
        c.plan.appendChild(button);
        entry.row.classList.add('has-plan');
      } else {
        c.plan.textContent = 'not yet';
      }
      tbody.appendChild(entry.row);
      if (entry.expanded) tbody.appendChild(entry.planRow);
    });
    Object.keys(statementRows).forEach(function (id) {
      if (keep[id]) return;
      statementRows[id].row.remove();
      statementRows[id].planRow.remove();
      delete statementRows[id];
    });
  }

  function createStatementRow(q) {
    var row = document.createElement('tr');
    var cells = {};
    ['sql', 'calls', 'mean', 'p95', 'max', 'total', 'slow', 'traces', 'plan'].forEach(function (name) {
      var td = document.createElement('td');
      if (name === 'sql') td.className = 'sql';
      row.appendChild(td);
      cells[name] = td;
    });
    var planRow = document.createElement('tr');
    var planCell = document.createElement('td');
    planCell.colSpan = 9;
    planCell.className = 'plan-cell';
    planRow.appendChild(planCell);
    var entry = { row: row, planRow: planRow, planCell: planCell, cells: cells, expanded: false, q: q };
    row.addEventListener('click', function () {
      if (!entry.q.hasPlan) return;
      entry.expanded = !entry.expanded;
      if (entry.expanded) {
        row.after(planRow);
        loadPlan(entry);
      } else {
        planRow.remove();
      }
      var button = cells.plan.querySelector('button');
      if (button) button.textContent = entry.expanded ? 'hide' : 'show';
    });
    return entry;
  }

  function loadPlan(entry) {
    entry.planCell.textContent = 'loading the plan…';
    fetch('/admin/dashboard/plans/' + encodeURIComponent(entry.q.id), { credentials: 'same-origin' })
      .then(function (res) {
        return res.ok ? res.json() : Promise.reject(new Error('HTTP ' + res.status));
      })
      .then(function (body) {
        showPlan(entry.planCell, body);
      })
      .catch(function (err) {
        entry.planCell.textContent = 'Could not load the plan: ' + err.message;
      });
  }

  function showPlan(cell, body) {
    cell.textContent = '';
    var pre = document.createElement('pre');
    if (!body.plan) {
      pre.textContent = 'No plan captured for this statement yet.';
      cell.appendChild(pre);
      return;
    }
    var lines = ['captured ' + body.plan.capturedAt + ' after a ' + fmt(body.plan.triggerMs, 1) + ' ms run', ''];
    var doc = Array.isArray(body.plan.plan) ? body.plan.plan[0] : body.plan.plan;
    if (doc && doc.Plan) planLines(doc.Plan, 0, lines);
    pre.textContent = lines.join('\n');
    cell.appendChild(pre);
    var details = document.createElement('details');
    var summary = document.createElement('summary');
    summary.textContent = 'EXPLAIN (FORMAT JSON)';
    var raw = document.createElement('pre');
    raw.textContent = JSON.stringify(body.plan.plan, null, 2);
    details.appendChild(summary);
    details.appendChild(raw);
    cell.appendChild(details);
  }

  var PLAN_DETAILS = ['Index Cond', 'Recheck Cond', 'Filter', 'Join Filter', 'Hash Cond', 'Merge Cond', 'Sort Key', 'Group Key'];

  /** The plan as psql's EXPLAIN prints it, roughly: one node per line, indented. */
  function planLines(node, depth, out) {
    var pad = new Array(depth + 1).join('      ');
    var head = node['Node Type'];
    if (node['Index Name']) head += ' using ' + node['Index Name'];
    if (node['Relation Name'])
      head += ' on ' + node['Relation Name'] + (node.Alias && node.Alias !== node['Relation Name'] ? ' ' + node.Alias : '');
    head +=
      '  (cost=' + node['Startup Cost'] + '..' + node['Total Cost'] + ' rows=' + node['Plan Rows'] + ' width=' + node['Plan Width'] + ')';
    out.push(pad + (depth === 0 ? '' : '->  ') + head);
    PLAN_DETAILS.forEach(function (key) {
      if (node[key] === undefined) return;
      out.push(pad + '      ' + key + ': ' + (Array.isArray(node[key]) ? node[key].join(', ') : node[key]));
    });
    (node.Plans || []).forEach(function (child) {
      planLines(child, depth + 1, out);
    });
  }

  // ---- the stream -------------------------------------------------------------------------

  function connect() {
    var source = new EventSource('/admin/dashboard/stream');
    source.addEventListener('history', function (event) {
      JSON.parse(event.data).forEach(append);
      redraw();
    });
    source.addEventListener('frame', function (event) {
      var frame = JSON.parse(event.data);
      append(frame);
      redraw();
      render(frame);
    });
    source.addEventListener('error', function () {
      if (source.readyState !== EventSource.CLOSED) {
        showState('connecting', 'reconnecting…', '');
        return;
      }
      // Refused (signed out, session expired, or too many dashboards open): find out which.
      showState('connecting', 'disconnected', 'retrying in 5 s');
      fetch('/admin/dashboard', { redirect: 'manual', credentials: 'same-origin' }).then(
        function (res) {
          if (res.type === 'opaqueredirect') location.assign('/admin/login');
          else setTimeout(connect, 5000);
        },
        function () {
          setTimeout(connect, 5000);
        },
      );
    });
  }

  // A frame is due every second; after a few missing ones, say so.
  setInterval(function () {
    if (lastFrameAt !== 0 && Date.now() - lastFrameAt > 5000)
      showState('connecting', 'stale', 'no frame for ' + Math.round((Date.now() - lastFrameAt) / 1000) + ' s');
  }, 1000);

  function start() {
    charts = SPECS.map(createChart);
    var resize = function () {
      charts.forEach(function (chart) {
        chart.u.setSize({ width: Math.max(300, chart.el.clientWidth), height: 220 });
      });
    };
    window.addEventListener('resize', resize);
    connect();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
