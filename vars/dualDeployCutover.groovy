import dev.dualdeploy.jenkins.DualDeployCli

// Moves a stage's live traffic to Kubernetes up its cutover's steps (dualdeploy cutover); see dualDeployCutover.txt.
def call(Map options = [:]) {
    def cli = new DualDeployCli(this, options)
    cli.checkCutover()
    try {
        // The service names the lock, the one dualDeploy takes around the stage's deploy, so that a deploy and a cutover
        // of one stage never interleave; the stage's own approval: is there too, for approval: true.
        Map chain = cli.check(cli.run('stages', [ONLY: options.stage], 'stages'), 'stages')
        String resource = DualDeployCli.lockResource(chain.service, options.stage)
        Map approval = cli.cutoverApproval(chain)
        Map last = null
        if (options.revert) {
            return cli.cutover(options.stage, 1, false) // the emergency exit: no lock, which a stuck build may hold
        }
        if (!approval) {
            // Nobody to ask between the steps: one run, in which the CLI sets, reads back and judges each step to the goal.
            lock(resource: resource) {
                last = cli.cutover(options.stage, 1, false)
            }
            return last
        }
        // A person before each step: Jenkins' input cannot live in the CLI, so the steps are walked here, one approved
        // `cutover --next` each, asked outside the lock (a person who takes hours holds none). `stages` reports the steps;
        // the share is known after each run, so the walk ends at the last step or 100%, when a run moves nothing, after
        // next: true's one step, or at the first failure (the build fails with the CLI's reason).
        List steps = DualDeployCli.cutoverSteps(chain, options.stage)
        for (int n = 1; n <= 100 && !DualDeployCli.cutoverDone(last, options.next == true, steps); n++) {
            cli.ask(options.stage, approval, DualDeployCli.cutoverQuestion(options.stage, last, n, steps), 'Move')
            lock(resource: resource) {
                last = cli.cutover(options.stage, n, true)
            }
        }
        return last
    } finally {
        // The journal of the runs and their results: what moved where, and who approved it.
        archiveArtifacts(artifacts: '.dualdeploy/*.json, .dualdeploy/journal/**', allowEmptyArchive: true)
    }
}
