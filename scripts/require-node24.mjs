// The project is built for Node.js 24 LTS. `npm install` brings Node 24 into node_modules/.bin, which npm
// scripts and the Makefile put first on PATH; this guard catches a run that bypassed both.
const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  console.error(
    `secretlink needs Node.js 24 LTS, but this is ${process.version}. Run it through npm or make.`,
  );
  process.exit(1);
}
