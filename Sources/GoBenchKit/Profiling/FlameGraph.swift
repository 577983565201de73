// SVG flame graphs drawn by gobench itself, in the manner of Brendan
// Gregg's flamegraph.pl: one box per frame, width proportional to samples,
// root at the bottom, children left to right in name order (so the x axis
// is not time), a title per box with samples and percentage for hovering,
// click to zoom into a frame, Ctrl-F or the "Search" button to highlight
// frames matching a regular expression (with the matched share of all
// samples), "Reset Zoom" to go back.
//
// The document is well-formed XML: every text is escaped and the script is
// a CDATA section. Frames narrower than `minWidth` pixels are left out, as
// flamegraph.pl does, and counted in the root's title only.

import Foundation

/// A node of the merged call tree.
final class FlameNode {
    let name: String
    var total = 0
    /// Second count, for differential graphs (the base profile, scaled).
    var base = 0.0
    var children: [String: FlameNode] = [:]
    init(_ name: String) { self.name = name }

    func child(_ n: String) -> FlameNode {
        if let c = children[n] { return c }
        let c = FlameNode(n)
        children[n] = c
        return c
    }

    var depth: Int { 1 + (children.values.map(\.depth).max() ?? 0) }
}

public enum FlameGraph {
    public static let width = 1200.0
    static let frameHeight = 16.0
    static let fontSize = 12.0
    static let fontWidth = 0.59
    static let xPad = 10.0
    static let topPad = 66.0
    static let bottomPad = 34.0
    public static let minWidth = 0.1

    /// A flame graph of `stacks`.
    public static func svg(_ stacks: FoldedStacks, title: String, subtitle: String = "") -> String {
        let root = FlameNode("all")
        for (stack, count) in stacks.counts {
            root.total += count
            var n = root
            for f in stack { n = n.child(f); n.total += count }
        }
        return render(root, title: title, subtitle: subtitle, diff: false)
    }

    /// A differential flame graph: shapes (widths) from `new`, colours from
    /// the change of each frame's inclusive samples against `base` (scaled
    /// to the same total): red where it grew, blue where it shrank, paler
    /// the smaller the change; white frames did not change. `baseScale`
    /// multiplies the base's counts instead of the totals' ratio (a
    /// per-operation comparison passes new ops / base ops).
    public static func diffSVG(base: FoldedStacks, new: FoldedStacks, title: String, subtitle: String = "",
                               baseScale: Double? = nil) -> String {
        let root = FlameNode("all")
        let scale = baseScale ?? (base.total > 0 ? Double(new.total) / Double(base.total) : 0)
        for (stack, count) in new.counts {
            root.total += count
            var n = root
            for f in stack { n = n.child(f); n.total += count }
        }
        // Base counts land only on frames that exist in the new profile;
        // stacks that vanished show as shrinkage of their parents.
        for (stack, count) in base.counts {
            root.base += Double(count) * scale
            var n = root
            for f in stack {
                guard let c = n.children[f] else { break }
                n = c
                n.base += Double(count) * scale
            }
        }
        return render(root, title: title, subtitle: subtitle, diff: true)
    }

    static func escape(_ s: String) -> String {
        var o = ""
        o.reserveCapacity(s.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            case "'": o += "&apos;"
            default:
                // XML 1.0 forbids most control characters.
                if c.value < 0x20 && c != "\t" && c != "\n" && c != "\r" { o += "?" } else { o.unicodeScalars.append(c) }
            }
        }
        return o
    }

    /// flamegraph.pl's "hot" palette, seeded by the name so a function
    /// keeps its colour across graphs; inlined frames (`_[i]`) in its
    /// "aqua" palette, as flamegraph.pl colours them.
    static func hotColor(_ name: String) -> String {
        var h: UInt64 = 1469598103934665603
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        let v1 = Double(h & 0xff) / 255, v2 = Double((h >> 8) & 0xff) / 255, v3 = Double((h >> 16) & 0xff) / 255
        if name.hasSuffix(FoldedStacks.inlinedSuffix) {
            return "rgb(\(50 + Int(60 * v3)),\(165 + Int(55 * v3)),\(165 + Int(55 * v3)))"
        }
        return "rgb(\(205 + Int(50 * v1)),\(Int(230 * v2)),\(Int(55 * v3)))"
    }

    /// Red for growth, blue for shrinkage, by the change relative to the
    /// largest change in the graph.
    static func diffColor(delta: Double, maxDelta: Double) -> String {
        guard maxDelta > 0, abs(delta) >= 0.5 else { return "rgb(232,232,232)" }
        let v = Int(210 * (1 - min(1, abs(delta) / maxDelta)))
        return delta > 0 ? "rgb(255,\(v),\(v))" : "rgb(\(v),\(v),255)"
    }

    static func render(_ root: FlameNode, title: String, subtitle: String, diff: Bool) -> String {
        let total = max(root.total, 1)
        let depth = root.depth
        let height = topPad + Double(depth) * frameHeight + bottomPad
        let scale = (width - 2 * xPad) / Double(total)
        var maxDelta = 0.0
        if diff {
            func walk(_ n: FlameNode) { maxDelta = max(maxDelta, abs(Double(n.total) - n.base)); n.children.values.forEach(walk) }
            walk(root)
        }
        var out = """
        <?xml version="1.0" standalone="no"?>
        <!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
        <svg version="1.1" width="\(Int(width))" height="\(Int(height))" onload="init(evt)" viewBox="0 0 \(Int(width)) \(Int(height))" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
        <style type="text/css">
        text { font-family: Verdana, sans-serif; font-size: \(Int(fontSize))px; fill: rgb(0,0,0); }
        #title { text-anchor: middle; font-size: 17px; }
        #subtitle { text-anchor: middle; fill: rgb(80,80,80); }
        #search, #unzoom { cursor: pointer; }
        #frames > g:hover rect { stroke: black; stroke-width: 0.5; cursor: pointer; }
        .hide { display: none; }
        .parent { opacity: 0.5; }
        </style>
        <script type="text/ecmascript"><![CDATA[
        \(script(total: total, scale: scale, depth: depth))
        ]]></script>
        <rect x="0" y="0" width="100%" height="100%" fill="rgb(248,248,248)"/>
        <text id="title" x="\(Int(width / 2))" y="24">\(escape(title))</text>
        <text id="subtitle" x="\(Int(width / 2))" y="44">\(escape(subtitle))</text>
        <text id="unzoom" x="\(Int(xPad))" y="24" class="hide">Reset Zoom</text>
        <text id="search" x="\(Int(width - xPad - 100))" y="24">Search</text>
        <text id="matched" x="\(Int(width - xPad - 100))" y="\(Int(height - 12))"> </text>
        <text id="details" x="\(Int(xPad))" y="\(Int(height - 12))"> </text>
        <g id="frames">

        """
        // Depth-first, children in name order; x in samples from the left.
        func emit(_ n: FlameNode, x: Int, level: Int) {
            let w = Double(n.total) * scale
            guard w >= minWidth else { return }
            let pct = Double(n.total) * 100 / Double(total)
            let inlined = n.name.hasSuffix(FoldedStacks.inlinedSuffix)
            let shown = inlined ? String(n.name.dropLast(FoldedStacks.inlinedSuffix.count)) + " (inlined)" : n.name
            var info = "\(shown) (\(n.total) samples, \(String(format: "%.2f", pct))%"
            if diff {
                let d = Double(n.total) - n.base
                info += String(format: "; %+.0f samples vs base, %+.2f%% of all", d, d * 100 / Double(total))
            }
            info += ")"
            let fill = diff ? diffColor(delta: Double(n.total) - n.base, maxDelta: maxDelta) : (level == 0 ? "rgb(230,140,60)" : hotColor(n.name))
            let px = xPad + Double(x) * scale
            let py = height - bottomPad - Double(level + 1) * frameHeight
            let chars = Int(w / (fontSize * fontWidth))
            let label = chars < 3 ? "" : (shown.count <= chars ? shown : String(shown.prefix(chars - 2)) + "..")
            out += "<g data-x=\"\(x)\" data-w=\"\(n.total)\" data-d=\"\(level)\"><title>\(escape(info))</title>"
            out += "<rect x=\"\(String(format: "%.1f", px))\" y=\"\(String(format: "%.1f", py))\" width=\"\(String(format: "%.1f", w))\" height=\"\(Int(frameHeight - 1))\" fill=\"\(fill)\" rx=\"2\" ry=\"2\"/>"
            out += "<text x=\"\(String(format: "%.1f", px + 3))\" y=\"\(String(format: "%.1f", py + frameHeight - 4.5))\">\(escape(label))</text></g>\n"
            var cx = x
            for c in n.children.values.sorted(by: { $0.name < $1.name }) {
                emit(c, x: cx, level: level + 1)
                cx += c.total
            }
        }
        emit(root, x: 0, level: 0)
        out += "</g>\n</svg>\n"
        return out
    }

    /// The interactive part: zoom, reset, search. Frames carry their sample
    /// offset (data-x), width in samples (data-w) and depth (data-d); zoom
    /// rescales the frames inside the clicked one and greys its ancestors.
    static func script(total: Int, scale: Double, depth: Int) -> String {
        """
        var total = \(total), width = \(width), xpad = \(xPad), fontSize = \(fontSize), fontWidth = \(fontWidth);
        var frames, details, matchedText, unzoomBtn, searchBtn, zoomed = null, searching = null;
        function init(evt) {
          frames = document.getElementById("frames").getElementsByTagName("g");
          details = document.getElementById("details").firstChild;
          matchedText = document.getElementById("matched");
          unzoomBtn = document.getElementById("unzoom");
          searchBtn = document.getElementById("search");
          for (var i = 0; i < frames.length; i++) {
            var g = frames[i];
            g.addEventListener("click", function (e) { zoom(this); });
            g.addEventListener("mouseover", function (e) { details.nodeValue = "Function: " + this.querySelector("title").textContent; });
            g.addEventListener("mouseout", function (e) { details.nodeValue = " "; });
            var r = g.querySelector("rect");
            r.setAttribute("data-fill", r.getAttribute("fill"));
          }
          unzoomBtn.addEventListener("click", function () { unzoom(); });
          searchBtn.addEventListener("click", function () { searchPrompt(); });
          window.addEventListener("keydown", function (e) {
            if (e.keyCode === 114 || ((e.ctrlKey || e.metaKey) && e.keyCode === 70)) { e.preventDefault(); searchPrompt(); }
          });
        }
        function nameOf(g) { var t = g.querySelector("title").textContent; return t.substring(0, t.lastIndexOf(" (")); }
        function place(g, x0, w0) {
          var x = +g.getAttribute("data-x"), w = +g.getAttribute("data-w");
          var s = (width - 2 * xpad) / w0;
          var px = xpad + (Math.max(x, x0) - x0) * s, pw = (Math.min(x + w, x0 + w0) - Math.max(x, x0)) * s;
          var r = g.querySelector("rect"), t = g.querySelector("text");
          r.setAttribute("x", px.toFixed(1)); r.setAttribute("width", pw.toFixed(1));
          t.setAttribute("x", (px + 3).toFixed(1));
          var chars = Math.floor(pw / (fontSize * fontWidth)), name = nameOf(g);
          t.textContent = chars < 3 ? "" : (name.length <= chars ? name : name.substring(0, chars - 2) + "..");
        }
        function zoom(g) {
          var x0 = +g.getAttribute("data-x"), w0 = +g.getAttribute("data-w"), d0 = +g.getAttribute("data-d");
          zoomed = g;
          unzoomBtn.classList.remove("hide");
          for (var i = 0; i < frames.length; i++) {
            var f = frames[i], x = +f.getAttribute("data-x"), w = +f.getAttribute("data-w"), d = +f.getAttribute("data-d");
            f.classList.remove("hide"); f.classList.remove("parent");
            if (d < d0 && x <= x0 && x + w >= x0 + w0) { f.classList.add("parent"); place(f, x0, w0); }
            else if (d >= d0 && x >= x0 && x + w <= x0 + w0) { place(f, x0, w0); }
            else { f.classList.add("hide"); }
          }
          if (searching) search(searching);
        }
        function unzoom() {
          zoomed = null;
          unzoomBtn.classList.add("hide");
          for (var i = 0; i < frames.length; i++) {
            frames[i].classList.remove("hide"); frames[i].classList.remove("parent");
            place(frames[i], 0, total);
          }
          if (searching) search(searching);
        }
        function searchPrompt() {
          if (searching) { resetSearch(); return; }
          var term = prompt("Search for (regular expression):", "");
          if (term) search(term);
        }
        function resetSearch() {
          searching = null;
          searchBtn.textContent = "Search";
          matchedText.textContent = " ";
          for (var i = 0; i < frames.length; i++) {
            var r = frames[i].querySelector("rect"); r.setAttribute("fill", r.getAttribute("data-fill"));
          }
        }
        function search(term) {
          var re;
          try { re = new RegExp(term); } catch (e) { return; }
          searching = term;
          searchBtn.textContent = "Reset Search";
          var spans = [];
          for (var i = 0; i < frames.length; i++) {
            var g = frames[i], r = g.querySelector("rect");
            if (re.test(nameOf(g))) {
              r.setAttribute("fill", "rgb(230,0,230)");
              spans.push([+g.getAttribute("data-x"), +g.getAttribute("data-w")]);
            } else { r.setAttribute("fill", r.getAttribute("data-fill")); }
          }
          // Matched share: the union of matching spans, so that a match
          // inside another match is not counted twice.
          spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
          var covered = 0, end = -1;
          for (var k = 0; k < spans.length; k++) {
            var s = spans[k][0], e = s + spans[k][1];
            if (s >= end) { covered += e - s; end = e; } else if (e > end) { covered += e - end; end = e; }
          }
          matchedText.textContent = "Matched: " + (100 * covered / total).toFixed(1) + "%";
        }
        """
    }
}
