import dev.dualdeploy.jenkins.DualDeployCli

// What runs per stage and side, and PARITY or DRIFT; see dualDeployStatus.txt.
def call(Map options = [:]) {
    def cli = new DualDeployCli(this, options)
    Map status = cli.run('status', [STAGE: options.stage ?: '', CHECK: options.check ? 'true' : ''], 'status')
    if (status.stages) {
        echo DualDeployCli.summary(status)
    }
    return cli.checkStatus(status, options.check ? true : false)
}
