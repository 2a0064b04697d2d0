//! A user in moto's Cognito, through the service's JSON wire protocol (moto checks no
//! signature, and this keeps `aws-sdk-cognitoidentityprovider` out of the build).

use serde_json::{Value, json};

/// A user pool, an app client and one signed-in user.
#[derive(Clone)]
pub struct CognitoUser {
    pub pool_id: String,
    pub client_id: String,
    /// The user's `sub`: Gen3D's user id.
    pub sub: String,
    pub email: String,
    pub id_token: String,
}

fn call(moto: &str, action: &str, body: Value) -> Value {
    ureq::post(&format!("{moto}/"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", &format!("AWSCognitoIdentityProviderService.{action}"))
        .send(body.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("cognito {action}: {e}"))
        .body_mut()
        .read_json()
        .unwrap_or_else(|e| panic!("cognito {action} reply: {e}"))
}

impl CognitoUser {
    /// Creates the pool, client and user on moto and signs the user in.
    pub fn create(moto: &str, pool_name: &str, email: &str) -> Self {
        let pool = call(moto, "CreateUserPool", json!({"PoolName": pool_name, "UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"]}));
        let pool_id = pool["UserPool"]["Id"].as_str().expect("pool id").to_owned();
        let client = call(
            moto,
            "CreateUserPoolClient",
            json!({"UserPoolId": pool_id, "ClientName": "web", "ExplicitAuthFlows": ["ADMIN_USER_PASSWORD_AUTH"]}),
        );
        let client_id = client["UserPoolClient"]["ClientId"].as_str().expect("client id").to_owned();
        Self::sign_up(moto, &pool_id, &client_id, email)
    }

    /// Another user in the same pool.
    pub fn another(&self, moto: &str, email: &str) -> Self {
        Self::sign_up(moto, &self.pool_id, &self.client_id, email)
    }

    fn sign_up(moto: &str, pool_id: &str, client_id: &str, email: &str) -> Self {
        let password = "Corr3ct-Horse-Battery";
        call(
            moto,
            "AdminCreateUser",
            json!({"UserPoolId": pool_id, "Username": email, "UserAttributes": [{"Name": "email", "Value": email}], "MessageAction": "SUPPRESS"}),
        );
        call(moto, "AdminSetUserPassword", json!({"UserPoolId": pool_id, "Username": email, "Password": password, "Permanent": true}));
        let auth = call(
            moto,
            "AdminInitiateAuth",
            json!({"UserPoolId": pool_id, "ClientId": client_id, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": email, "PASSWORD": password}}),
        );
        let id_token = auth["AuthenticationResult"]["IdToken"].as_str().expect("id token").to_owned();
        let user = call(moto, "AdminGetUser", json!({"UserPoolId": pool_id, "Username": email}));
        let sub = user["UserAttributes"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["Name"] == "sub"))
            .and_then(|x| x["Value"].as_str())
            .expect("sub attribute")
            .to_owned();
        Self { pool_id: pool_id.to_owned(), client_id: client_id.to_owned(), sub, email: email.to_owned(), id_token }
    }
}
