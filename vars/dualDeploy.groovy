import dev.dualdeploy.jenkins.DualDeployCli

// The whole release: the branch's stage chain, one image pinned by digest, each stage approved where it asks for it
// and deployed (locked, in order). Decisions live in the CLI; see dualDeploy.txt.
def call(Map options = [:]) {
    def cli = new DualDeployCli(this, options)
    try {
        Map chain = cli.check(cli.run('stages', cli.chainValues(env, params), 'stages'), 'stages')
        if (options.parameters) {
            cli.declareParameters(DualDeployCli.names(chain.stages))
        }
        echo chain.message
        if (!chain.stages) {
            return chain
        }
        Map release = cli.release(env, params, chain.image)
        Map last = null
        // An index loop: it holds no iterator across the steps inside (see the CPS notes in the README).
        for (int i = 0; i < chain.stages.size(); i++) {
            Map target = chain.stages[i]
            stage(target.name) {
                // Approval guards the stage's entry: asked before anything changes, and outside the lock, so that a
                // person who takes hours holds no lock, and aborting leaves the stage as it was.
                cli.approve(target, release, params)
                milestone(label: "dualdeploy ${target.name}")
                lock(resource: DualDeployCli.lockResource(chain.service, target.name)) {
                    last = cli.deploy(target.name, release, params)
                }
            }
        }
        currentBuild.description = DualDeployCli.description(chain.service, release, last)
        return last
    } finally {
        // A failed build is the one whose results, and the journal of what its runs did, a person needs most.
        archiveArtifacts(artifacts: '.dualdeploy/*.json, .dualdeploy/journal/**', allowEmptyArchive: true)
    }
}
