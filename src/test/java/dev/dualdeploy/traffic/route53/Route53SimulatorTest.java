package dev.dualdeploy.traffic.route53;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.local.Route53Simulator;
import dev.dualdeploy.local.Route53Simulator.RecordSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.route53.Route53Client;
import software.amazon.awssdk.services.route53.model.Change;
import software.amazon.awssdk.services.route53.model.ChangeAction;
import software.amazon.awssdk.services.route53.model.ChangeStatus;
import software.amazon.awssdk.services.route53.model.InvalidChangeBatchException;
import software.amazon.awssdk.services.route53.model.InvalidInputException;
import software.amazon.awssdk.services.route53.model.NoSuchChangeException;
import software.amazon.awssdk.services.route53.model.ResourceRecordSet;
import software.amazon.awssdk.services.route53.model.RRType;

/** The simulator's wire protocol and rules, driven by the plain SDK client: what a router may rely on it to enforce. */
class Route53SimulatorTest {

    private static final String ZONE = "Z2SIM";
    private static Route53Simulator sim;
    private static Route53Client client;

    @BeforeAll
    static void start() {
        sim = Route53Simulator.start();
        // Route53 is global: the client's region only picks the partition and, with an endpoint override, the signing region.
        client = Route53Client.builder().region(Region.AWS_GLOBAL).endpointOverride(sim.endpoint())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClientBuilder(UrlConnectionHttpClient.builder()).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        sim.close();
    }

    @BeforeEach
    void zone() {
        sim.reset();
        sim.addHostedZone(ZONE, "example.com.");
        sim.put(ZONE, RecordSet.weighted("api.example.com", "CNAME", "legacy", 90, 60, "legacy-lb.example.net"));
        sim.put(ZONE, RecordSet.weighted("api.example.com", "CNAME", "kubernetes", 10, 60, "k8s-lb.example.net"));
    }

    private static ResourceRecordSet weighted(String name, String set, long weight, String value) {
        return ResourceRecordSet.builder().name(name).type(RRType.CNAME).setIdentifier(set).weight(weight).ttl(60L)
                .resourceRecords(r -> r.value(value)).build();
    }

    private static Change change(ChangeAction action, ResourceRecordSet record) {
        return Change.builder().action(action).resourceRecordSet(record).build();
    }

    private static void submit(Change... changes) {
        client.changeResourceRecordSets(r -> r.hostedZoneId(ZONE).changeBatch(b -> b.changes(changes)));
    }

    @Test
    void aBatchWithOneBadChangeAppliesNothingAndListsTheProblem() {
        assertThatThrownBy(() -> submit(change(ChangeAction.UPSERT, weighted("api.example.com", "kubernetes", 50, "k8s-lb.example.net")),
                change(ChangeAction.DELETE, weighted("api.example.com", "ghost", 1, "ghost.example.net"))))
                .isInstanceOfSatisfying(InvalidChangeBatchException.class, e -> {
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidChangeBatch");
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.awsErrorDetails().errorMessage()).isEqualTo("[Tried to delete resource record set "
                            + "[name='api.example.com.', type='CNAME', set-identifier='ghost'] but it was not found]");
                });
        assertThat(sim.record(ZONE, "api.example.com", "CNAME", "kubernetes").orElseThrow().weight()).isEqualTo(10);
        assertThat(sim.batches()).isEmpty();
    }

    @Test
    void createOfAnExistingRecordAndDeleteWithOtherValuesAreRefused() {
        assertThatThrownBy(() -> submit(change(ChangeAction.CREATE, weighted("api.example.com", "legacy", 90, "legacy-lb.example.net")),
                change(ChangeAction.DELETE, weighted("api.example.com", "kubernetes", 11, "k8s-lb.example.net"))))
                .isInstanceOfSatisfying(InvalidChangeBatchException.class, e -> assertThat(e.awsErrorDetails().errorMessage())
                        .isEqualTo("[Tried to create resource record set [name='api.example.com.', type='CNAME', set-identifier='legacy'] "
                                + "but it already exists, Tried to delete resource record set [name='api.example.com.', type='CNAME', "
                                + "set-identifier='kubernetes'] but the values provided do not match the current values]"));
    }

    @Test
    void deleteAndCreateInOneBatchReplaceARecord() {
        submit(change(ChangeAction.DELETE, weighted("api.example.com", "kubernetes", 10, "k8s-lb.example.net")),
                change(ChangeAction.CREATE, weighted("api.example.com", "kubernetes", 40, "k8s-lb.example.net")));
        assertThat(sim.record(ZONE, "api.example.com.", "CNAME", "kubernetes").orElseThrow().weight()).isEqualTo(40);
        assertThat(sim.lastBatch().orElseThrow()).extracting(Route53Simulator.Change::action).containsExactly("DELETE", "CREATE");
    }

    @Test
    void aWeightAbove255OrASetIdentifierWithoutWeightIsInvalidInput() {
        assertThatThrownBy(() -> submit(change(ChangeAction.UPSERT, weighted("api.example.com", "kubernetes", 256, "k8s-lb.example.net"))))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.awsErrorDetails().errorMessage())
                        .contains("'256'").contains("less than or equal to 255"));
        ResourceRecordSet noWeight = weighted("api.example.com", "kubernetes", 0, "k8s-lb.example.net").toBuilder().weight(null).build();
        assertThatThrownBy(() -> submit(change(ChangeAction.UPSERT, noWeight))).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("Missing field 'Weight'");
        ResourceRecordSet failover = weighted("api.example.com", "kubernetes", 1, "k8s-lb.example.net").toBuilder()
                .failover("PRIMARY").build();
        assertThatThrownBy(() -> submit(change(ChangeAction.UPSERT, failover))).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("Failover").hasMessageContaining("not modelled");
        assertThat(sim.batches()).isEmpty();
    }

    @Test
    void namesOutsideTheZoneOrMixingWeightedAndSimpleAreRefused() {
        assertThatThrownBy(() -> submit(change(ChangeAction.CREATE, weighted("api.example.org", "x", 1, "x.example.net"))))
                .isInstanceOf(InvalidChangeBatchException.class)
                .hasMessageContaining("RRSet with DNS name api.example.org. is not permitted in zone example.com.");
        ResourceRecordSet simple = ResourceRecordSet.builder().name("api.example.com").type(RRType.CNAME).ttl(60L)
                .resourceRecords(r -> r.value("x.example.net")).build();
        assertThatThrownBy(() -> submit(change(ChangeAction.CREATE, simple))).isInstanceOf(InvalidChangeBatchException.class)
                .hasMessageContaining("cannot be both weighted and not weighted");
    }

    @Test
    void storesNamesAsRoute53ReturnsThem() {
        submit(change(ChangeAction.CREATE, weighted("*.Apps.example.com", "a", 1, "x.example.net")));
        assertThat(client.listResourceRecordSets(r -> r.hostedZoneId(ZONE).startRecordName("*.apps.example.com").startRecordType(RRType.CNAME))
                .resourceRecordSets().get(0).name()).isEqualTo("\\052.apps.example.com.");
    }

    @Test
    void getChangeIsPendingForTheConfiguredPollsThenInsync() {
        sim.pendingPolls(2);
        var info = client.changeResourceRecordSets(r -> r.hostedZoneId(ZONE).changeBatch(b -> b.comment("why")
                .changes(change(ChangeAction.UPSERT, weighted("api.example.com", "kubernetes", 20, "k8s-lb.example.net"))))).changeInfo();
        assertThat(info.status()).isEqualTo(ChangeStatus.PENDING);
        assertThat(info.id()).as("the SDK strips /change/").matches("C\\d+");
        assertThat(info.comment()).isEqualTo("why");
        List<ChangeStatus> polled = List.of(client.getChange(r -> r.id(info.id())).changeInfo().status(),
                client.getChange(r -> r.id(info.id())).changeInfo().status(), client.getChange(r -> r.id(info.id())).changeInfo().status());
        assertThat(polled).containsExactly(ChangeStatus.PENDING, ChangeStatus.PENDING, ChangeStatus.INSYNC);
        assertThatThrownBy(() -> client.getChange(r -> r.id("CNOPE"))).isInstanceOfSatisfying(NoSuchChangeException.class,
                e -> assertThat(e.statusCode()).isEqualTo(404));
    }

    @Test
    void pagesInListOrderThroughTheSdkPaginator() {
        for (int i = 0; i < 7; i++) {
            sim.put(ZONE, RecordSet.weighted("api.example.com", "CNAME", "extra-" + i, 0, 60, "e" + i + ".example.net"));
            sim.put(ZONE, RecordSet.simple("h" + i + ".example.com", "A", 60, "192.0.2." + i));
        }
        sim.pageSize(3);
        List<String> listed = client.listResourceRecordSetsPaginator(r -> r.hostedZoneId(ZONE)).resourceRecordSets().stream()
                .map(r -> r.name() + " " + r.typeAsString() + " " + r.setIdentifier()).toList();
        assertThat(listed).isEqualTo(sim.records(ZONE).stream().map(r -> r.name() + " " + r.type() + " " + r.setIdentifier()).toList());
        assertThat(listed).hasSize(2 + 2 + 7 + 7).startsWith("example.com. NS null", "example.com. SOA null", "api.example.com. CNAME extra-0")
                .endsWith("h5.example.com. A null", "h6.example.com. A null");
        assertThat(sim.requests("ListResourceRecordSets")).isEqualTo(6);
        var page = client.listResourceRecordSets(r -> r.hostedZoneId(ZONE).maxItems("2").startRecordName("api.example.com")
                .startRecordType(RRType.CNAME).startRecordIdentifier("extra-5"));
        assertThat(page.resourceRecordSets()).extracting(ResourceRecordSet::setIdentifier).containsExactly("extra-5", "extra-6");
        assertThat(page.isTruncated()).isTrue();
        assertThat(List.of(page.nextRecordName(), page.nextRecordTypeAsString(), page.nextRecordIdentifier()))
                .containsExactly("api.example.com.", "CNAME", "kubernetes");
    }

    @Test
    void faultsAreRoute53sErrorCodes() {
        sim.priorRequestNotComplete(5);
        assertThatThrownBy(() -> submit(change(ChangeAction.UPSERT, weighted("api.example.com", "kubernetes", 20, "k8s-lb.example.net"))))
                .isInstanceOfSatisfying(AwsServiceException.class, e -> assertThat(e.awsErrorDetails().errorCode())
                        .isEqualTo("PriorRequestNotComplete"));
        sim.priorRequestNotComplete(0);
        sim.throttle(10);
        assertThatThrownBy(() -> client.getChange(r -> r.id("C1"))).isInstanceOfSatisfying(AwsServiceException.class,
                e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("Throttling"));
    }
}
