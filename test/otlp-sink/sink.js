// An OTLP/HTTP metrics sink for promrun-push's tests (test code only:
// nothing of it ships).  It decodes each request with OpenTelemetry's own
// generated protobuf code, from @opentelemetry/otlp-transformer (pinned in
// package-lock.json), and writes what it holds as canonical lines.
//
// usage: node sink.js DIR MODE...
//   MODE: the n-th request gets the n-th (the last repeats):
//     ok              200 and an empty ExportMetricsServiceResponse
//     partial:N:MSG   200 with partial_success {N rejected, MSG}
//     CODE            that HTTP status (e.g. 500, 503), body "sink CODE"
//
// It listens on 127.0.0.1, a port the kernel picks, written to DIR/port;
// request n's headers go to DIR/request-n, its decoded content to
// DIR/points-n:
//   resource KEY=VALUE                  (each attribute, sorted)
//   scope NAME VERSION
//   METRIC KIND DESCRIPTION-JSON        (kind: gauge, sum, histogram, summary)
//   point METRIC {ATTRIBUTES} FIELD=VALUE...   (sorted)
// A body that does not decode is answered 400 with the decoder's error.
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");
const root = require("@opentelemetry/otlp-transformer/build/src/generated/root");

const [dir, ...modes] = process.argv.slice(2);
const pb = root.opentelemetry.proto;
const Request = pb.collector.metrics.v1.ExportMetricsServiceRequest;
const Response = pb.collector.metrics.v1.ExportMetricsServiceResponse;
let count = 0;

const str = (v) => (v === undefined || v === null ? "" : String(v));

function attrs(list) {
  const o = {};
  for (const kv of list || []) o[kv.key] = str(kv.value && kv.value.stringValue);
  return JSON.stringify(Object.fromEntries(Object.entries(o).sort()));
}

function canonical(req) {
  const out = [];
  for (const rm of req.resourceMetrics) {
    for (const kv of rm.resource.attributes) {
      out.push(`resource ${kv.key}=${str(kv.value.stringValue)}`);
    }
    for (const sm of rm.scopeMetrics) {
      out.push(`scope ${sm.scope.name} ${sm.scope.version}`);
      for (const m of sm.metrics) {
        const kind = m.data;
        const d = m[kind];
        out.push(`${m.name} ${kind} ${JSON.stringify(m.description || "")}`);
        for (const p of d.dataPoints) {
          const f = [`time=${str(p.timeUnixNano)}`];
          if (kind === "sum" || kind === "histogram") {
            f.push(`temporality=${d.aggregationTemporality}`);
          }
          if (kind === "sum") f.push(`monotonic=${d.isMonotonic}`);
          if (kind !== "gauge") f.push(`start=${str(p.startTimeUnixNano)}`);
          if (kind === "gauge" || kind === "sum") f.push(`value=${p.asDouble}`);
          if (kind === "histogram" || kind === "summary") {
            f.push(`count=${str(p.count)}`, `sum=${p.sum}`);
          }
          if (kind === "histogram") {
            f.push(`bounds=${(p.explicitBounds || []).join(",")}`);
            f.push(`buckets=${(p.bucketCounts || []).map(str).join(",")}`);
          }
          if (kind === "summary") {
            f.push(`quantiles=${(p.quantileValues || [])
              .map((q) => `${q.quantile}:${q.value}`).join(",")}`);
          }
          out.push(`point ${m.name} ${attrs(p.attributes)} ${f.sort().join(" ")}`);
        }
      }
    }
  }
  return out.join("\n") + "\n";
}

function decode(type, body) {
  const opts = { longs: String, enums: Number, defaults: true, oneofs: true };
  if (type.startsWith("application/json")) {
    // The JSON mapping writes 64-bit integers as strings, which
    // fromObject converts (verify() would refuse them); a misnamed field
    // is dropped, and then the canonical lines differ from protobuf's.
    const json = JSON.parse(body.toString("utf8"));
    return Request.toObject(Request.fromObject(json), opts);
  }
  return Request.toObject(Request.decode(body), opts);
}

function answer(res, n, json) {
  const mode = modes[Math.min(n - 1, modes.length - 1)] || "ok";
  let msg = {};
  if (/^[0-9]+$/.test(mode)) {
    res.writeHead(Number(mode), { "Content-Type": "text/plain" });
    res.end(`sink ${mode}\n`);
    return;
  }
  if (mode.startsWith("partial:")) {
    const [, rejected, text] = mode.split(":");
    msg = { partialSuccess: { rejectedDataPoints: rejected, errorMessage: text } };
  }
  if (json) {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify(msg));
  } else {
    res.writeHead(200, { "Content-Type": "application/x-protobuf" });
    res.end(Buffer.from(Response.encode(Response.fromObject(msg)).finish()));
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const n = ++count;
    const type = req.headers["content-type"] || "";
    const head = [`${req.method} ${req.url}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      head.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    head.push(`AT ${(Date.now() / 1000).toFixed(3)}`);
    fs.writeFileSync(path.join(dir, `request-${n}`), head.join("\n") + "\n");
    let text;
    try {
      text = canonical(decode(type, Buffer.concat(chunks)));
    } catch (e) {
      res.writeHead(400, { "Content-Type": "text/plain" });
      res.end(`sink cannot decode: ${e.message}\n`);
      return;
    }
    fs.writeFileSync(path.join(dir, `points-${n}`), text);
    answer(res, n, type.startsWith("application/json"));
  });
});

server.listen(0, "127.0.0.1", () => {
  fs.writeFileSync(path.join(dir, "port.tmp"), `${server.address().port}\n`);
  fs.renameSync(path.join(dir, "port.tmp"), path.join(dir, "port"));
});
