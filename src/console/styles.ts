/** The console's CSS (no angle brackets or quotes: the JSX escapes the style element's text): readable at phone width, visible focus, colours with AA contrast. */
export const CONSOLE_STYLES = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,sans-serif;color:#1b1b1b;background:#fafafa}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;padding:.6rem 1rem;background:#12355b;color:#fff}
header h1{font-size:1.1rem;margin:0}
header a,header button{color:#fff}
nav{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
main{padding:1rem;max-width:70rem;margin:0 auto}
h2{font-size:1.2rem;margin:1.2rem 0 .5rem}
h3{font-size:1rem;margin:1rem 0 .4rem}
a{color:#0b4f9c}
:focus-visible{outline:3px solid #e8a400;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;color:#000;padding:.3rem;z-index:2}
form{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;margin:.5rem 0}
label{display:flex;flex-direction:column;font-size:.85rem;gap:.2rem}
input,select,button{font:inherit;padding:.35rem .5rem;border:1px solid #6b6b6b;border-radius:4px;background:#fff;color:#1b1b1b;min-height:2.2rem}
button{cursor:pointer;background:#12355b;color:#fff;border-color:#12355b}
button.danger{background:#a51d2d;border-color:#a51d2d}
header button{background:transparent;border-color:#fff}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
tr.parked{background:#fdeceb}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:.8rem;background:#e4e4e4;color:#1b1b1b}
.badge.parked{background:#a51d2d;color:#fff}.badge.linked{background:#1c6b3a;color:#fff}
.numbers{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.5rem;padding:0;list-style:none}
.numbers li{background:#fff;border:1px solid #ddd;border-radius:4px;padding:.4rem .6rem}
.numbers b{display:block;font-size:1.3rem}
pre{white-space:pre-wrap;word-break:break-word;background:#fff;border:1px solid #ddd;padding:.6rem;border-radius:4px;max-height:24rem;overflow:auto}
ol.timeline{list-style:none;padding:0;margin:0}
ol.timeline .ev{background:#fff;border-left:4px solid #6b6b6b;margin:.4rem 0;padding:.4rem .6rem}
ol.timeline .ev.summary{border-color:#1c6b3a}ol.timeline .ev.redaction{border-color:#a51d2d}ol.timeline .ev.note{border-color:#0b4f9c}
del{color:#6d1a21}
.trouble{background:#fdeceb;border:1px solid #a51d2d;border-radius:4px;padding:.5rem .7rem}
.error{color:#a51d2d;font-weight:600}
.muted{color:#555}
#status{max-width:70rem;margin:0 auto;padding:.2rem 1rem 1rem;font-size:.8rem;color:#555}
@media (max-width:40rem){main{padding:.6rem}th,td{padding:.3rem}}
`;
