import dev.dualdeploy.jenkins.DualDeployCli

// Returns a stage to its previous release, on one side or both; see dualDeployRollback.txt.
def call(Map options = [:]) {
    if (!options.stage) {
        error('dualDeployRollback needs stage: (the stage to roll back)')
    }
    def cli = new DualDeployCli(this, options)
    Map result = cli.run('rollback', [STAGE: options.stage, SIDE: options.side, WAIT_LOCK: cli.waitLock()], "rollback-${options.stage}")
    return cli.check(result, "rollback of ${options.stage}")
}
