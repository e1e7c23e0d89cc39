// xml2js ships one .d.ts for its index; the parser module is typed from it.
declare module 'xml2js/lib/parser.js' {
  export { Parser } from 'xml2js';
}
