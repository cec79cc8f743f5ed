import ts from "typescript";
const file = process.argv[2] ?? "src/index.ts";
const program = ts.createProgram([file], {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
});
const checker = program.getTypeChecker();
const source = program.getSourceFile(file)!;
const symbol = checker.getSymbolAtLocation(source)!;
const names = checker
  .getExportsOfModule(symbol)
  .map((s) => s.name)
  .sort();
const values = checker
  .getExportsOfModule(symbol)
  .filter((s) => {
    const t = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    return (t.flags & ts.SymbolFlags.Value) !== 0;
  })
  .map((s) => s.name);
console.log(JSON.stringify({ total: names.length, values: values.length, types: names.length - values.length }));
if (process.argv[3] === "list") console.log(names.join(" "));
