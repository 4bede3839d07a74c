package dev.dualdeploy.jenkins

import com.lesfurets.jenkins.unit.cps.BasePipelineTestCPS
import com.lesfurets.jenkins.unit.global.lib.LibraryConfiguration
import com.lesfurets.jenkins.unit.global.lib.LocalSource
import groovy.json.JsonOutput
import org.junit.jupiter.api.AfterEach

import java.nio.file.FileAlreadyExistsException
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths

/**
 * Runs the library's steps under JenkinsPipelineUnit's CPS interpreter, as Jenkins loads them (an implicit library
 * named dual-deploy whose vars/ and src/ are this project's), with the Jenkins step vocabulary recorded. Each `sh`
 * of the runner script runs that script for real, in a workspace directory, with the environment the steps set;
 * only the CLI at its end is a fake, which records the exact command line and answers with a canned JSON result
 * for its command. The CLI itself is tested on its own.
 */
abstract class PipelineFixture extends BasePipelineTestCPS {

    static final String DIGEST = 'sha256:' + 'a' * 64
    static final String PINNED = "registry.example.com/loan-api@${DIGEST}"
    static final String RUNNER = new File('resources/dev/dualdeploy/dualdeploy.sh').text
    static final String BUILD = new File('resources/dev/dualdeploy/docker-build.sh').text
    /** The digest the stub docker's push reports. */
    static final String PUSHED = 'sha256:' + 'c' * 64

    /** One call of the CLI through the runner: the environment it ran with, and the credentials bound around it. */
    static class CliCall {
        Map<String, String> env
        List credentials
        String script
        /** The exact arguments the CLI received. */
        List<String> argv
    }

    Path workspace
    Path fakeCli
    /** A stub docker, first on the PATH of the build script: it records its arguments and answers push with a digest. */
    Path stubDocker
    String pushDigest

    List<CliCall> cliCalls = []
    List<Map> shellCalls = []
    /** What happened, in order: each CLI call ("deploy prod"), each input ("input"), and entering and leaving a lock. */
    List<String> events = []
    Map<String, Closure<Map>> answers = [:]
    List currentCredentials = []
    Map<String, String> currentEnv = [:]

    // Mocked steps that take a body run it with helper.callClosure: under CPS, calling a body directly returns at
    // once and runs it later, so anything the mock restores afterwards would be restored too early.

    void setUpPipeline(Map env = [BRANCH_NAME: 'main']) {
        cliCalls = []
        shellCalls = []
        events = []
        answers = [:]
        currentCredentials = []
        currentEnv = [:]
        Path libraries = Paths.get('target', 'jpu-libraries')
        Files.createDirectories(libraries)
        Path link = libraries.resolve('dual-deploy@test')
        if (!Files.exists(link)) {
            try {
                Files.createSymbolicLink(link, Paths.get('').toAbsolutePath())
            } catch (FileAlreadyExistsException ignored) {
                // the test JVM beside this one made it first: the same link
            }
        }
        scriptRoots += 'examples'
        workspace = Files.createTempDirectory(Paths.get('target').toAbsolutePath(), 'workspace')
        fakeCli = workspace.resolve('fake-cli')
        fakeCli.toFile().text = '#!/bin/sh\nprintf \'%s\\0\' "$@" > "$FAKE_ARGS"\ncat "$FAKE_ANSWER"\nexit "$FAKE_EXIT"\n'
        fakeCli.toFile().setExecutable(true)
        pushDigest = PUSHED
        Path bin = Files.createDirectories(workspace.resolve('bin'))
        stubDocker = bin.resolve('docker')
        stubDocker.toFile().text = '#!/bin/sh\nprintf \'%s\\n\' "$*" >> "$DOCKER_LOG"\ncase "$1" in\n' +
                '  push) echo "The push refers to repository [${2%:*}]"; echo "5f70bf18a086: Pushed";' +
                ' [ -z "$PUSH_DIGEST" ] || echo "${2##*:}: digest: $PUSH_DIGEST size: 1570" ;;\nesac\n'
        stubDocker.toFile().setExecutable(true)
        if (!(helper instanceof RoundTripHelper)) {
            helper = new RoundTripHelper()
        }
        super.setUp()
        helper.registerSharedLibrary(LibraryConfiguration.library().name('dual-deploy').defaultVersion('test')
                .allowOverride(true).implicit(true).targetPath('target/jpu-checkout')
                .retriever(new LocalSource(libraries.toString())).build())
        binding.setVariable('env', new LinkedHashMap(env))
        binding.setVariable('params', [:])
        binding.setVariable('currentBuild', [result: null, description: null])
        helper.registerAllowedMethod('libraryResource', [String]) { String path -> new File("resources/${path}").text }
        helper.registerAllowedMethod('withEnv', [List, Closure]) { List entries, Closure body ->
            Map saved = new LinkedHashMap(currentEnv)
            entries.each { String entry ->
                int eq = entry.indexOf('=')
                currentEnv[entry.substring(0, eq)] = entry.substring(eq + 1)
            }
            try {
                helper.callClosure(body)
            } finally {
                currentEnv = saved
            }
        }
        helper.registerAllowedMethod('withCredentials', [List, Closure]) { List bindings, Closure body ->
            currentCredentials = bindings
            // A Secret text binding sets its variable to the secret for the body, as Jenkins does: the test's stand-in.
            Map saved = new LinkedHashMap(currentEnv)
            bindings.findAll { it instanceof Map && it.string }.each { Map b -> currentEnv[b.string.variable] = secretOf(b.string.credentialsId) }
            try {
                helper.callClosure(body)
            } finally {
                currentCredentials = []
                currentEnv = saved
            }
        }
        helper.registerAllowedMethod('file', [Map]) { Map m -> [file: m] }
        helper.registerAllowedMethod('usernamePassword', [Map]) { Map m -> [usernamePassword: m] }
        helper.registerAllowedMethod('sh', [Map]) { Map m -> shell(m) }
        helper.registerAllowedMethod('readFile', [String]) { String path ->
            File file = workspace.resolve(path).toFile()
            if (!file.exists()) {
                throw new IllegalStateException("no file ${path} in the workspace")
            }
            file.text
        }
        helper.registerAllowedMethod('lock', [Map, Closure]) { Map m, Closure body ->
            events << "lock ${m.resource}".toString()
            try {
                helper.callClosure(body)
            } finally {
                events << "unlock ${m.resource}".toString()
            }
        }
        helper.registerAllowedMethod('milestone', [Map]) { Map m -> null }
        helper.registerAllowedMethod('timeout', [Map, Closure]) { Map m, Closure body -> helper.callClosure(body) }
        helper.registerAllowedMethod('input', [Map]) { Map m -> events << 'input'; null }
        helper.registerAllowedMethod('archiveArtifacts', [Map]) { Map m -> null }
        helper.registerAllowedMethod('junit', [Map]) { Map m -> null }
        helper.registerAllowedMethod('fileExists', [String]) { String path -> workspace.resolve(path).toFile().exists() }
        helper.registerAllowedMethod('properties', [List]) { List l -> null }
        helper.registerAllowedMethod('parameters', [List]) { List l -> [parameters: l] }
        helper.registerAllowedMethod('booleanParam', [Map]) { Map m -> [booleanParam: m] }
        helper.registerAllowedMethod('choice', [Map]) { Map m -> [choice: m] }
        helper.registerAllowedMethod('string', [Map]) { Map m -> [string: m] }
        helper.registerAllowedMethod('error', [String]) { String message -> throw new PipelineError(message) }
        answers.stages = { Map e -> chain(['sandbox', 'preprod', 'beta', 'prod']) }
        answers.release = { Map e -> [command: 'release', exitCode: 0, image: PINNED, tag: '1.4.2', digest: DIGEST] }
        answers.deploy = { Map e -> deployed(e.DD_STAGE) }
        answers.plan = { Map e -> planned(e.DD_STAGE, e.DD_VERSION ?: '1.4.2') }
    }

    @AfterEach
    void deleteWorkspace() {
        workspace?.toFile()?.deleteDir()
    }

    /** The error step's failure, as Jenkins fails a build with the message. */
    static class PipelineError extends RuntimeException {
        PipelineError(String message) {
            super(message)
        }
    }

    Object shell(Map m) {
        if (currentEnv.DD_COMMAND && m.script == RUNNER) {
            Map<String, String> env = new LinkedHashMap(currentEnv)
            Closure<Map> answer = answers[env.DD_COMMAND]
            Map result = answer ? answer(env) : [command: env.DD_COMMAND, exitCode: 0]
            Path answerFile = workspace.resolve('answer.json')
            Path argsFile = workspace.resolve('argv')
            // raw: what the CLI prints instead of a JSON result (nothing, or a usage text); the rest is the JSON result.
            answerFile.toFile().text = result.containsKey('raw') ? result.raw
                    : JsonOutput.toJson(result.findAll { k, v -> !(k in ['exitCode', 'writes', 'dropResult']) })
            ProcessBuilder runner = new ProcessBuilder('sh', '-c', m.script).directory(workspace.toFile()).redirectErrorStream(true)
            runner.environment().keySet().removeAll(runner.environment().keySet().findAll { it.startsWith('DD_') || it.startsWith('DUALDEPLOY_') })
            runner.environment().putAll(env)
            runner.environment().putAll([DD_CLI: fakeCli.toString(), FAKE_ANSWER: answerFile.toString(), FAKE_ARGS: argsFile.toString(),
                                         FAKE_EXIT: (result.exitCode ?: 0).toString()])
            Process process = runner.start()
            String log = process.inputStream.text
            int status = process.waitFor()
            String raw = argsFile.toFile().exists() ? argsFile.toFile().text : ''
            List<String> argv = raw ? raw.substring(0, raw.length() - 1).split('\0', -1) as List : []
            argsFile.toFile().delete()
            // Files the CLI would write in the workspace (a gate's JUnit XML).
            (result.writes ?: [:]).each { String path, String text -> workspace.resolve(path).toFile().text = text }
            if (result.dropResult) {
                workspace.resolve(env.DD_RESULT).toFile().delete()
            }
            if (!argv) {
                throw new IllegalStateException("the runner did not run the CLI: ${log}")
            }
            cliCalls << new CliCall(env: env, credentials: currentCredentials, script: m.script, argv: argv)
            events << env.DD_COMMAND + (env.DD_STAGE ? ' ' + env.DD_STAGE : '')
            return status
        }
        shellCalls << [script: m.script, env: new LinkedHashMap(currentEnv), credentials: currentCredentials]
        if (m.script == BUILD) {
            // The build script runs for real, with the stub docker first on its PATH.
            ProcessBuilder build = new ProcessBuilder('sh', '-c', m.script).directory(workspace.toFile()).redirectErrorStream(true)
            build.environment().putAll(currentEnv)
            build.environment().putAll([PATH: stubDocker.parent.toString() + ':' + System.getenv('PATH'), PUSH_DIGEST: pushDigest ?: '',
                                        DOCKER_LOG: workspace.resolve('docker.log').toString()])
            Process process = build.start()
            String log = process.inputStream.text
            int status = process.waitFor()
            shellCalls.last().log = log
            if (status != 0) {
                // As Jenkins' sh step fails without returnStatus.
                throw new PipelineError("script returned exit code ${status}: ${log}")
            }
        }
        return 0
    }

    /** The secret a Secret text credential holds, in these tests. */
    static String secretOf(String credentialsId) {
        "s3cr3t-of-${credentialsId}-5c0e19d2".toString()
    }

    /** What the stub docker was asked, one line per call. */
    List<String> dockerCalls() {
        File log = workspace.resolve('docker.log').toFile()
        log.exists() ? log.readLines() : []
    }

    static Map chain(List<String> names, Map approval = [submitter: 'sre', timeoutMinutes: 1440]) {
        [command: 'stages', exitCode: 0, service: 'loan-api', image: 'registry.example.com/loan-api', matched: 'main', message: "branch matches: ${names.join(' → ')}".toString(),
         stages: names.collect { [name: it, approval: it == 'prod' ? approval : null] }]
    }

    static Map deployed(String stage) {
        [command: 'deploy', exitCode: 0, stage: stage, outcome: 'SUCCEEDED', reason: 'every enabled side runs 1.4.2',
         sides: [[side: 'legacy'], [side: 'kubernetes']]]
    }

    /** A plan in which each side of the stage runs 1.4.1 and would get the release. */
    static Map planned(String stage, String version) {
        [command: 'plan', exitCode: 0, stage: stage, release: [image: PINNED, digest: DIGEST, version: version],
         sides: [[side: 'legacy', target: "ecs ${stage}/loan-api".toString(), action: 'DEPLOY', current: [version: '1.4.1', digest: 'sha256:' + 'b' * 64]],
                 [side: 'kubernetes', target: "loan/loan-api in ${stage}".toString(), action: 'DEPLOY', current: [version: '1.4.1', digest: 'sha256:' + 'b' * 64]]]]
    }

    List<String> commands() {
        cliCalls.collect { it.env.DD_COMMAND + (it.env.DD_STAGE ? ' ' + it.env.DD_STAGE : '') }
    }

    List callsTo(String method) {
        helper.callStack.findAll { it.methodName == method }
    }

    Object runPipeline(String script) {
        Path file = Files.createTempFile(Paths.get('target'), 'Jenkinsfile', '.groovy')
        file.toFile().text = script
        try {
            return runScript(file.toString())
        } finally {
            Files.deleteIfExists(file)
        }
    }
}
