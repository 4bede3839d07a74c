package dev.dualdeploy.jenkins

import dev.dualdeploy.local.LocalEnvironment
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Test

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.regex.Matcher

import static org.assertj.core.api.Assertions.assertThat

/**
 * Issue 8 item 17: the README's Jenkinsfile against `dualdeploy local` runs as written, under the CPS interpreter,
 * through the real runner script and the real CLI (the test's classes in a JVM of their own), against a running local
 * environment: stages, release through the local registry, deploy to two stages, status. Only the paths and the
 * registry port differ from the README: the test's own.
 */
class LocalJenkinsfileTest extends PipelineFixture {

    private LocalEnvironment local

    @AfterEach
    void stopLocal() {
        local?.close()
    }

    @Test
    void theReadmeJenkinsfileRunsAgainstTheLocalEnvironment() {
        setUpPipeline([:])
        Path dir = Files.createTempDirectory(Paths.get('target').toAbsolutePath(), 'local')
        local = LocalEnvironment.start(dir, '0.9.0', 2, 0)
        Path launcher = workspace.resolve('dualdeploy')
        launcher.toFile().text = "#!/bin/sh\nexec java -XX:TieredStopAtLevel=1 -cp '${System.getProperty('java.class.path')}' dev.dualdeploy.cli.Main \"\$@\"\n"
        launcher.toFile().setExecutable(true)
        List<Map> runs = []
        helper.registerAllowedMethod('node', [Closure]) { Closure body -> helper.callClosure(body) }
        helper.registerAllowedMethod('sh', [Map]) { Map m ->
            ProcessBuilder process = new ProcessBuilder('sh', '-c', m.script).directory(workspace.toFile()).redirectErrorStream(true)
            process.environment().keySet().removeAll(process.environment().keySet().findAll { it.startsWith('DD_') || it.startsWith('DUALDEPLOY_') })
            process.environment().putAll(currentEnv)
            process.environment().put('DUALDEPLOY_CLI', launcher.toString())
            Process running = process.start()
            String log = running.inputStream.text
            int status = running.waitFor()
            runs << [command: currentEnv.DD_COMMAND, status: status, log: log]
            return status
        }
        Matcher block = new File('README.md').text =~ /(?s)```groovy\n([^`]*dualdeploy-local[^`]*)```/
        assertThat(block.find()).isTrue()
        String jenkinsfile = block.group(1).replace('/tmp/dualdeploy-local', dir.toString())
                .replace('127.0.0.1:5000', local.registry().host())

        runPipeline(jenkinsfile)

        assertThat(runs*.command).as(runs*.log.join('\n')).containsExactly('stages', 'release', 'deploy', 'deploy', 'status')
        assertThat(runs*.status).as(runs*.log.join('\n')).containsOnly(0)
        String digest = local.release('1.0.0').digest()
        assertThat(local.kubernetes().client().apps().deployments().inNamespace('preprod').withName('loan-api').get()
                .spec.template.spec.containers[0].image).isEqualTo(local.release('1.0.0').image())
        assertThat(callsTo('echo')*.args*.getAt(0)*.toString().join('\n')).contains('sandbox', 'preprod', 'PARITY')
        assertThat(new File(workspace.toFile(), '.dualdeploy/release.json').text).contains(digest)
    }
}
