<?php
// The blog's scripted install (Debian 12 has no WP-CLI): WordPress's own wp_install(), as
// wp-admin/install.php calls it, then the bundled Akismet plugin activated. The API key is NOT
// set here: the test enters it on the plugin's settings page in the browser, as an owner does.
// Usage: php -d auto_prepend_file=PREPEND install.php ROOT URL TITLE ADMIN PASSWORD
if ( $argc !== 6 ) {
	fwrite( STDERR, "usage: install.php ROOT URL TITLE ADMIN PASSWORD\n" );
	exit( 2 );
}
list( , $root, $url, $title, $admin, $password ) = $argv;
$parts = parse_url( $url );
$_SERVER['HTTP_HOST']   = $parts['host'] . ':' . $parts['port'];
$_SERVER['SERVER_NAME'] = $parts['host'];
$_SERVER['REQUEST_URI'] = '/wp-admin/install.php';
define( 'WP_INSTALLING', true );
require_once $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$result = wp_install( $title, $admin, 'admin@blog.example', true, '', $password );
if ( empty( $result['user_id'] ) ) {
	fwrite( STDERR, "wp_install failed\n" );
	exit( 1 );
}
// Visitors' comments are published unless a filter (Akismet) says otherwise: no "previously
// approved author" rule and no link-count hold, so the verdicts seen are greyflux's alone.
update_option( 'comment_previously_approved', 0 );
update_option( 'comment_max_links', 0 );
update_option( 'comments_notify', 0 );
update_option( 'moderation_notify', 0 );

$activated = activate_plugin( 'akismet/akismet.php' );
if ( is_wp_error( $activated ) ) {
	fwrite( STDERR, 'activate_plugin: ' . $activated->get_error_message() . "\n" );
	exit( 1 );
}
$post = get_posts( array( 'numberposts' => 1, 'post_type' => 'post' ) );
printf( "installed %s post=%d theme=%s\n", home_url(), $post ? $post[0]->ID : 0,
	get_stylesheet() );
