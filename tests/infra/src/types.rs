//! The AWS provider resource types the program may use, with the output attributes a
//! reference may read (besides the resource's own input properties) and the properties
//! the inventory shows. A type not listed here fails the check: add it deliberately.

pub struct ResourceType {
    pub token: &'static str,
    /// Attributes known only after creation (`id` is implied).
    pub outputs: &'static [&'static str],
    /// Property paths (dot-separated) shown in the inventory.
    pub key_properties: &'static [&'static str],
}

const fn t(token: &'static str, outputs: &'static [&'static str], key_properties: &'static [&'static str]) -> ResourceType {
    ResourceType { token, outputs, key_properties }
}

pub const KNOWN_TYPES: &[ResourceType] = &[
    t("aws:apigatewayv2:Api", &["apiEndpoint", "arn", "executionArn"], &["protocolType", "corsConfiguration.allowOrigins"]),
    t("aws:apigatewayv2:Authorizer", &[], &["authorizerType", "jwtConfiguration.issuer"]),
    t("aws:apigatewayv2:Integration", &[], &["integrationType", "payloadFormatVersion"]),
    t("aws:apigatewayv2:Route", &[], &["routeKey", "authorizationType"]),
    t(
        "aws:apigatewayv2:Stage",
        &["arn", "invokeUrl", "executionArn"],
        &["defaultRouteSettings.throttlingRateLimit", "defaultRouteSettings.throttlingBurstLimit"],
    ),
    t(
        "aws:appautoscaling:Policy",
        &["arn", "alarmArns"],
        &["policyType", "targetTrackingScalingPolicyConfiguration.customizedMetricSpecification.metricName"],
    ),
    t("aws:appautoscaling:Target", &["arn"], &["resourceId", "minCapacity", "maxCapacity"]),
    t("aws:cloudfront:Distribution", &["arn", "domainName", "hostedZoneId", "status"], &["aliases", "defaultRootObject"]),
    t("aws:cloudfront:OriginAccessControl", &["etag"], &["originAccessControlOriginType", "signingBehavior"]),
    t("aws:cloudfront:ResponseHeadersPolicy", &["etag"], &[]),
    t("aws:cloudwatch:EventRule", &["arn"], &["scheduleExpression"]),
    t("aws:cloudwatch:EventTarget", &[], &["arn"]),
    t("aws:cloudwatch:Dashboard", &["dashboardArn"], &[]),
    t("aws:cloudwatch:LogGroup", &["arn"], &["retentionInDays"]),
    t("aws:cloudwatch:MetricAlarm", &["arn"], &["namespace", "metricName", "threshold", "comparisonOperator"]),
    t("aws:cognito:IdentityPool", &["arn"], &["allowUnauthenticatedIdentities"]),
    t("aws:cognito:IdentityPoolProviderPrincipalTag", &[], &["principalTags"]),
    t("aws:cognito:IdentityPoolRoleAttachment", &[], &[]),
    t("aws:cognito:UserPool", &["arn", "endpoint", "domain"], &["usernameAttributes", "mfaConfiguration", "passwordPolicy.minimumLength"]),
    t("aws:cognito:UserPoolClient", &["clientSecret"], &["explicitAuthFlows"]),
    t("aws:dynamodb:Table", &["arn", "streamArn"], &["billingMode", "hashKey", "rangeKey", "ttl.attributeName", "pointInTimeRecovery.enabled"]),
    t("aws:ecr:LifecyclePolicy", &["registryId"], &[]),
    t("aws:ecr:Repository", &["arn", "registryId", "repositoryUrl"], &["imageTagMutability", "imageScanningConfiguration.scanOnPush"]),
    t("aws:iam:Role", &["arn", "uniqueId", "createDate"], &[]),
    t("aws:iam:RolePolicy", &[], &[]),
    t("aws:lambda:EventSourceMapping", &["arn", "uuid", "functionArn"], &["batchSize", "functionResponseTypes"]),
    t("aws:lambda:Function", &["arn", "invokeArn", "qualifiedArn", "version"], &["runtime", "architectures", "memorySize", "timeout"]),
    t("aws:lambda:Permission", &[], &["principal"]),
    t("aws:s3:Bucket", &["arn", "bucketDomainName", "bucketRegionalDomainName", "region"], &[]),
    t("aws:s3:BucketCorsConfiguration", &[], &[]),
    t("aws:s3:BucketLifecycleConfiguration", &[], &[]),
    t("aws:s3:BucketNotification", &[], &[]),
    t("aws:s3:BucketOwnershipControls", &[], &["rule.objectOwnership"]),
    t("aws:s3:BucketPolicy", &[], &[]),
    t("aws:s3:BucketPublicAccessBlock", &[], &["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]),
    t("aws:s3:BucketServerSideEncryptionConfiguration", &[], &[]),
    t("aws:s3:BucketVersioning", &[], &["versioningConfiguration.status"]),
    t("aws:sagemaker:Endpoint", &["arn"], &[]),
    t("aws:sagemaker:EndpointConfiguration", &["arn", "name"], &["asyncInferenceConfig.clientConfig.maxConcurrentInvocationsPerInstance"]),
    t("aws:sagemaker:Model", &["arn", "name"], &[]),
    t("aws:sesv2:ConfigurationSet", &["arn"], &["configurationSetName"]),
    t("aws:sesv2:ConfigurationSetEventDestination", &[], &["eventDestination.matchingEventTypes"]),
    t("aws:sesv2:EmailIdentity", &["arn", "identityType", "verifiedForSendingStatus"], &["configurationSetName"]),
    t("aws:sns:Topic", &["arn"], &[]),
    t("aws:sns:TopicSubscription", &["arn"], &["protocol", "filterPolicyScope"]),
    t("aws:sqs:Queue", &["arn", "url"], &["visibilityTimeoutSeconds", "messageRetentionSeconds"]),
    t("aws:sqs:QueuePolicy", &[], &[]),
];

pub fn known_type(token: &str) -> Option<&'static ResourceType> {
    KNOWN_TYPES.iter().find(|t| t.token == token)
}

/// `fn::invoke` functions the program may call, with the fields they return.
pub const KNOWN_INVOKES: &[(&str, &[&str])] = &[
    ("aws:getCallerIdentity", &["accountId", "arn", "userId"]),
    ("aws:getRegion", &["region", "name", "endpoint"]),
    ("aws:getPartition", &["partition", "dnsSuffix"]),
];
