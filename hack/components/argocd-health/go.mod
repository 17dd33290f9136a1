// Runs an Argo CD resource health script the way Argo CD does: in gopher-lua, with the object decoded by
// gopher-json, the two libraries Argo CD's util/lua embeds.
module secretlink.dev/components/argocd-health

go 1.26.0

require (
	github.com/yuin/gopher-lua v1.1.2
	layeh.com/gopher-json v0.0.0-20190114024228-97fed8db8427
)
