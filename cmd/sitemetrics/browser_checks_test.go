package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// What every page is checked for, in a real browser, at a desktop and a phone
// width: nothing scrolls sideways (neither the page nor anything in it), the
// numbers a person came for are on screen and not clipped, and axe-core finds
// no serious or critical WCAG 2.2 AA violation.

// widths are the desktop and phone viewports every page is checked at.
var widths = []int64{1280, 390}

// axeSource is axe-core's axe.min.js, pinned in testdata/browser and installed
// by .ci/with-services (npm ci), which exports its path.
func axeSource(t *testing.T) string {
	path := os.Getenv("SITEMETRICS_TEST_AXE")
	dbtest.Require(t, "axe", path != "", "SITEMETRICS_TEST_AXE is not set (npm ci in testdata/browser)")
	b, err := os.ReadFile(path)
	must(t, err)
	return string(b)
}

// describeJS names an element for a failure message: tag#id.class[data-testid].
const describeJS = `const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
  (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '') +
  (el.dataset && el.dataset.testid ? '[data-testid=' + el.dataset.testid + ']' : '');`

// sidewaysJS lists what scrolls sideways: the document, and every element
// whose content is wider than its box and that scrolls or clips it.
const sidewaysJS = `(() => {` + describeJS + `
  const out = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth) {
    // Name the culprits: what sticks out where its parent does not.
    const wide = [...document.body.querySelectorAll('*')].filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5 &&
      el.parentElement.getBoundingClientRect().right <= window.innerWidth + 0.5);
    out.push('the page is ' + doc.scrollWidth + ' px wide in a ' + window.innerWidth + ' px window, because of ' +
      wide.slice(0, 5).map(el => describe(el) + ' "' + el.textContent.trim().slice(0, 40) + '"').join(', '));
  }
  for (const el of document.body.querySelectorAll('*')) {
    if (el.matches('input, textarea, select')) continue; // a long value scrolls inside its field
    const ox = getComputedStyle(el).overflowX;
    if (ox !== 'visible' && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 1)
      out.push(describe(el) + ' (overflow-x ' + ox + ') holds ' + el.scrollWidth + ' px in ' + el.clientWidth + ' px');
  }
  return out;
})()`

// visibleJS lists why the elements a selector matches are not all readable:
// none, not rendered, off-screen to the side, or clipped by a box around them.
const visibleJS = `((sel) => {` + describeJS + `
  const els = [...document.querySelectorAll(sel)];
  if (els.length === 0) return ['nothing matches'];
  const out = [];
  for (const el of els) {
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    const what = describe(el) + ' "' + el.textContent.trim().slice(0, 30) + '"';
    if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden') { out.push(what + ' is not shown'); continue; }
    if (r.left < -0.5 || r.right > window.innerWidth + 0.5) { out.push(what + ' is off-screen (' + Math.round(r.left) + '–' + Math.round(r.right) + ' px)'); continue; }
    if (cs.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1) { out.push(what + ' cuts its own text'); continue; }
    for (let p = el.parentElement; p; p = p.parentElement) {
      const ps = getComputedStyle(p);
      if (ps.overflowX === 'visible' && ps.overflowY === 'visible') continue;
      const pr = p.getBoundingClientRect();
      if (r.left < pr.left - 0.5 || r.right > pr.right + 0.5) { out.push(what + ' is clipped by ' + describe(p)); break; }
    }
  }
  return out;
})`

// fieldErrorsJS lists form errors a screen reader would not tie to their
// field: a control marked aria-invalid must be described by a shown error
// text, and every error text in a form must describe a marked control.
const fieldErrorsJS = `(() => {` + describeJS + `
  const out = [];
  for (const el of document.querySelectorAll('[aria-invalid="true"]')) {
    const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    const errs = ids.map(id => document.getElementById(id)).filter(e => e && e.classList.contains('error-text') && e.textContent.trim() !== '' && e.getClientRects().length > 0);
    if (errs.length === 0) out.push(describe(el) + ' is marked invalid but described by no shown error (' + ids.join(' ') + ')');
  }
  for (const e of document.querySelectorAll('form .error-text')) {
    const by = document.querySelector('[aria-describedby~="' + e.id + '"][aria-invalid="true"]');
    if (!e.id || !by) out.push(describe(e) + ' "' + e.textContent.trim().slice(0, 40) + '" describes no marked control');
  }
  return out;
})()`

// axeRunJS runs axe-core on the page for WCAG 2.2 A and AA.
const axeRunJS = `(async () => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}, resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help, nodes: v.nodes.length,
    where: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\n').slice(1).join(' ').trim())}));
})()`

type axeViolation struct {
	ID, Impact, Help string
	Nodes            int
	Where            []string
}

// serious tells the violations that fail a page: serious and critical ones.
func (v axeViolation) serious() bool { return v.Impact == "serious" || v.Impact == "critical" }

// checkPage checks the page the browser shows at each width, failing the
// test (and going on) for every problem: p.keys must be visible at every
// width, and only the axe rules in p.allow (with the reason) may fail. With
// SITEMETRICS_TEST_SCREENSHOTS set, it saves NAME-WIDTH.png there (the whole
// page), and NAME-390-screen.png (what a phone shows first) if p.screen.
func (c *chrome) checkPage(p visit, axe string) {
	c.t.Helper()
	name := p.name
	for _, w := range widths {
		c.do(chromedp.EmulateViewport(w, 800))
		var sideways []string
		c.eval(sidewaysJS, &sideways)
		for _, s := range sideways {
			c.t.Errorf("%s at %d px scrolls sideways: %s", name, w, s)
		}
		for _, k := range p.keys {
			var bad []string
			q, _ := json.Marshal(k)
			c.eval(visibleJS+"("+string(q)+")", &bad)
			for _, b := range bad {
				c.t.Errorf("%s at %d px: %s: %s", name, w, k, b)
			}
		}
		var loose []string
		c.eval(fieldErrorsJS, &loose)
		for _, l := range loose {
			c.t.Errorf("%s at %d px: %s", name, w, l)
		}
		for _, v := range c.axe(axe) {
			report := c.t.Logf
			if v.serious() && p.allow[v.ID] == "" {
				report = c.t.Errorf
			}
			report("%s at %d px: axe %s (%s, %d element(s)): %s\n\t%s", name, w, v.ID, v.Impact, v.Nodes, v.Help, strings.Join(v.Where, "\n\t"))
		}
		if dir := os.Getenv("SITEMETRICS_TEST_SCREENSHOTS"); dir != "" {
			png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
			must(c.t, err)
			must(c.t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, w)), png, 0o644))
			if p.screen && w == 390 {
				png, err := chromedp.Run(c.ctx, chromedp.CaptureScreenshot())
				must(c.t, err)
				must(c.t, os.WriteFile(filepath.Join(dir, name+"-390-screen.png"), png, 0o644))
			}
		}
	}
	c.do(chromedp.EmulateViewport(1280, 800))
}

// axe injects axe-core through the DevTools protocol (not subject to the
// page's CSP, which forbids inline script) and runs it.
func (c *chrome) axe(source string) []axeViolation {
	c.t.Helper()
	var loaded bool
	c.eval(`typeof axe !== 'undefined'`, &loaded)
	if !loaded {
		c.eval(source+";true", &loaded)
	}
	out, err := chromedp.Run(c.ctx, chromedp.Evaluate[[]axeViolation](axeRunJS, chromedp.EvalAwaitPromise))
	if err != nil {
		c.t.Fatalf("axe: %v", err)
	}
	return out
}

func (c *chrome) eval(js string, v any) {
	c.t.Helper()
	raw, err := chromedp.Run(c.ctx, chromedp.Evaluate[[]byte](js))
	if err != nil {
		c.t.Fatalf("evaluate %.60s…: %v", js, err)
	}
	must(c.t, json.Unmarshal(raw, v))
}

// contrast is WCAG's contrast ratio of two sRGB colours.
func contrast(a, b [3]float64) float64 {
	l1, l2 := luminance(a), luminance(b)
	if l1 < l2 {
		l1, l2 = l2, l1
	}
	return (l1 + 0.05) / (l2 + 0.05)
}

func luminance(c [3]float64) float64 {
	var l [3]float64
	for i, v := range c {
		v /= 255
		if v <= 0.04045 {
			l[i] = v / 12.92
		} else {
			l[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

// seen marks how many console messages have arrived, for expected.
func (c *chrome) seen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.messages)
}

// expected drops the console messages since mark that contain text: the
// browser logs an error page's status as an error, and the page meant it.
func (c *chrome) expected(mark int, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.messages[:mark]
	for _, m := range c.messages[mark:] {
		if !strings.Contains(m, text) {
			kept = append(kept, m)
		}
	}
	c.messages = kept
}
